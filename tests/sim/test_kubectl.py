"""The real kubectl against `tekton-results-tui sim --kubeconfig-out` in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

KUBECTL = shutil.which("kubectl")


@pytest.fixture(scope="module")
def sim_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[subprocess.Popen, str]]:
    kc = str(tmp_path_factory.mktemp("sim") / "k.yaml")
    p = subprocess.Popen([sys.executable, "-m", "tekton_results_tui", "sim", "--kubeconfig-out", kc, "--rate", "20",
                          "--max-runs", "6", "--step-interval", "0.01", "--preload", "5",
                          "--custom-runs-every", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()  # type: ignore[union-attr]
    assert line.startswith("sim: serving Kubernetes API at http://127.0.0.1:"), line + (p.stderr.read() if p.poll() is not None else "")  # type: ignore[union-attr]
    assert f"kubeconfig: {kc} (context sim)" in line
    try:
        yield p, kc
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def kubectl(kc: str, *args: str) -> subprocess.CompletedProcess:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed (shutil.which('kubectl') is None)")
    return subprocess.run([KUBECTL, "--kubeconfig", kc, *args], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "KUBECACHEDIR": os.path.join(os.path.dirname(kc), "cache")})


def test_kubectl_get_pipelineruns_all_namespaces(sim_proc: tuple[subprocess.Popen, str]) -> None:
    r = kubectl(sim_proc[1], "get", "pipelineruns", "-A")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "SUCCEEDED", "REASON", "STARTTIME", "COMPLETIONTIME"]
    assert len(lines) >= 6
    assert {ln.split()[0] for ln in lines[1:]} <= {"ci", "dev", "prod"}


def test_kubectl_get_taskruns_yaml_and_short_name(sim_proc: tuple[subprocess.Popen, str]) -> None:
    import yaml
    r = kubectl(sim_proc[1], "get", "taskruns", "-n", "ci", "-o", "yaml")
    assert r.returncode == 0, r.stderr
    doc = yaml.safe_load(r.stdout)
    assert doc["kind"] == "List" and doc["items"]
    assert all(i["kind"] == "TaskRun" and i["metadata"]["namespace"] == "ci" for i in doc["items"])
    r = kubectl(sim_proc[1], "get", "tr", "-n", "ci", "-o", "name")
    assert r.returncode == 0 and r.stdout.startswith("taskrun.tekton.dev/"), r.stderr


def test_kubectl_get_customruns(sim_proc: tuple[subprocess.Popen, str]) -> None:
    """CustomRun is found through discovery at tekton.dev/v1beta1 (no short name), with Tekton's columns."""
    kc = sim_proc[1]
    r = kubectl(kc, "get", "customruns", "-A")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "SUCCEEDED", "REASON", "STARTTIME", "COMPLETIONTIME"]
    assert len(lines) >= 4  # preload runs 0, 2, 4 have one each
    r = kubectl(kc, "get", "customruns.v1beta1.tekton.dev", "-A", "-o", "json")
    assert r.returncode == 0, r.stderr
    items = json.loads(r.stdout)["items"]
    assert items and {i["apiVersion"] for i in items} == {"tekton.dev/v1beta1"}
    assert all(i["metadata"]["ownerReferences"][0]["kind"] == "PipelineRun" for i in items)


def test_kubectl_annotate_and_delete(sim_proc: tuple[subprocess.Popen, str]) -> None:
    kc = sim_proc[1]
    r = kubectl(kc, "get", "pipelineruns", "-n", "dev", "-o", "json")
    assert r.returncode == 0, r.stderr
    name = json.loads(r.stdout)["items"][0]["metadata"]["name"]
    r = kubectl(kc, "annotate", "-n", "dev", "pipelinerun", name, "example.com/note=hello")
    assert r.returncode == 0, r.stderr
    assert "annotated" in r.stdout
    r = kubectl(kc, "get", "pipelinerun", "-n", "dev", name, "-o", "jsonpath={.metadata.annotations.example\\.com/note}")
    assert r.stdout == "hello", r.stderr
    r = kubectl(kc, "delete", "-n", "dev", "pipelinerun", name)
    assert r.returncode == 0, r.stderr
    assert f'pipelinerun.tekton.dev "{name}" deleted' in r.stdout
    r = kubectl(kc, "get", "pipelinerun", "-n", "dev", name)
    assert r.returncode != 0 and "NotFound" in r.stderr
    r = kubectl(kc, "get", "taskruns", "-n", "dev", "-l", f"tekton.dev/pipelineRun={name}", "-o", "name")
    assert r.returncode == 0 and r.stdout.strip() == "", r.stdout  # its TaskRuns went with it


def test_sim_exits_zero_on_sigterm(sim_proc: tuple[subprocess.Popen, str]) -> None:
    p = sim_proc[0]
    p.send_signal(signal.SIGTERM)
    assert p.wait(10) == 0


def test_sim_process_cuts_every_watch_when_asked(tmp_path) -> None:
    """`sim --cut-watches-every N`: a separate watcher process sees each stream cut after N±N/5 events."""
    import urllib3
    from kubernetes import client, config, watch

    kc = str(tmp_path / "k.yaml")
    p = subprocess.Popen([sys.executable, "-m", "tekton_results_tui", "sim", "--kubeconfig-out", kc, "--rate", "0",
                          "--preload", "30", "--cut-watches-every", "10"], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().startswith("sim: serving")  # type: ignore[union-attr]
        co = client.CustomObjectsApi(config.new_client_from_config(kc))
        w = watch.Watch()
        got = 0
        with pytest.raises(urllib3.exceptions.ProtocolError):
            for _ in w.stream(co.list_cluster_custom_object, "tekton.dev", "v1", "pipelineruns", resource_version="1",
                              timeout_seconds=5):
                got += 1
        assert 8 <= got <= 12
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(10)
