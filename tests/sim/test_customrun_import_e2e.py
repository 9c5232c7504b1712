"""`import` of v1beta1 CustomRuns, end to end: the dump comes from the simulated cluster as the real kubectl
writes it (`kubectl get pipelineruns,taskruns,customruns -A -o yaml`), and goes in through the CLI entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tekton_results_tui.cli import main
from tekton_results_tui.sim import SimCluster
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History

RECORD_TYPE = "tekton.dev/v1beta1.CustomRun"


def dump_with_kubectl(kubeconfig: str, out: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the dump would not be kubectl's")
    r = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "get", "pipelineruns,taskruns,customruns", "-A", "-o", "yaml"],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "KUBECACHEDIR": str(out.parent / "kubecache")})
    assert r.returncode == 0, r.stderr
    assert "apiVersion: tekton.dev/v1beta1" in r.stdout and "kind: CustomRun" in r.stdout
    out.write_text(r.stdout)


def test_import_of_a_kubectl_dump_stores_customruns_under_their_pipelineruns(sim: SimCluster, kubeconfig: str,
                                                                            tmp_path: Path, capsys) -> None:
    sim.preload(pipelineruns=12, taskruns_per=2, seed=4, customruns_every=4)  # CustomRuns on runs 0, 4, 8
    dump = tmp_path / "dump.yaml"
    dump_with_kubectl(kubeconfig, dump)
    url = f"sqlite:///{tmp_path / 'history.db'}"
    assert main(["import", "--db", url, "--cluster-name", "sim", str(dump)]) == 0, capsys.readouterr().err
    crs = sim.list_objects("customruns")
    assert len(crs) == 3
    db = open_database(url)
    try:
        h = History(db)
        for cr in crs:
            rec = h.get_record(uid=cr["metadata"]["uid"])
            owner = h.get_record(uid=cr["metadata"]["ownerReferences"][0]["uid"])
            assert rec is not None and owner is not None
            assert (rec.type, rec.kind, rec.top_level, rec.final) == (RECORD_TYPE, "CustomRun", False, True)
            assert rec.result_id == owner.result_id
            assert rec.rv == int(cr["metadata"]["resourceVersion"])
            assert h.record_object(rec.id)["spec"]["customRef"] == cr["spec"]["customRef"]
        assert h.count_records("kind:customrun") == 3
        assert h.count_records("kind:pipelinerun") == 12
        seq = h.current_seq()
    finally:
        db.close()
    # the same dump again changes nothing
    assert main(["import", "--db", url, "--cluster-name", "sim", str(dump)]) == 0
    db = open_database(url)
    try:
        assert History(db).current_seq() == seq
    finally:
        db.close()


def test_import_of_a_single_v1beta1_customrun_json(sim: SimCluster, tmp_path: Path, capsys) -> None:
    """One object as `kubectl get customrun NAME -o json` gives it, alone (its PipelineRun not in the dump)."""
    sim.preload(pipelineruns=1, taskruns_per=1, seed=2, customruns_every=1)
    cr = sim.list_objects("customruns")[0]
    md = cr["metadata"]
    with urllib.request.urlopen(f"{sim.url}/apis/tekton.dev/v1beta1/namespaces/{md['namespace']}/customruns/{md['name']}") as r:
        obj = json.loads(r.read())
    assert obj["apiVersion"] == "tekton.dev/v1beta1" and obj["kind"] == "CustomRun"
    path = tmp_path / "cr.json"
    path.write_text(json.dumps(obj))
    url = f"sqlite:///{tmp_path / 'one.db'}"
    assert main(["import", "--db", url, str(path)]) == 0, capsys.readouterr().err
    db = open_database(url)
    try:
        h = History(db)
        rec = h.get_record(uid=md["uid"])
        assert rec is not None and rec.type == RECORD_TYPE and rec.status in ("SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED")
        # grouped by its owner's uid, as the watcher would: the PipelineRun joins the same Result when it comes
        assert h.get_result(id=rec.result_id).name == f"{md['namespace']}/results/{md['ownerReferences'][0]['uid']}"
    finally:
        db.close()
