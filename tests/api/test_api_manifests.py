"""config/serve/: the optional `serve` container and its Service run what the program understands."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tekton_results_tui import cli
from tekton_results_tui.api.server import auth_mode, parse_listen, ServeOptions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built() -> list[dict]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl not installed: the kustomize overlay is not built")
    out = subprocess.run(["kubectl", "kustomize", str(ROOT / "config" / "serve")], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def test_serve_container_parses_as_serve_with_kubernetes_auth_and_tls(built) -> None:
    dep = next(d for d in built if d["kind"] == "Deployment")
    containers = {c["name"]: c for c in dep["spec"]["template"]["spec"]["containers"]}
    assert set(containers) == {"watcher", "serve"}
    c = containers["serve"]
    args = cli.build_parser().parse_args(c["args"])
    assert args.func.__module__ == "tekton_results_tui.commands.serve_cmd"
    host, port = parse_listen(args.listen)
    assert auth_mode(ServeOptions(listen=args.listen, auth=args.auth), host) == "kubernetes"
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"api": port}
    assert c["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "api", "scheme": "HTTPS"}
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert args.tls_cert.startswith(mounts["api-tls"]) and args.tls_key.startswith(mounts["api-tls"])
    vols = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    assert vols["api-tls"]["secret"]["secretName"] == "tekton-results-tui-api-tls"
    assert [e for e in c["env"] if e["name"] == "TEKTON_RESULTS_TUI_DB"][0]["valueFrom"]["secretKeyRef"]["name"] == \
        "tekton-results-tui-db"
    assert c["securityContext"]["readOnlyRootFilesystem"] is True


def test_api_service_reaches_the_serve_port(built) -> None:
    svc = next(d for d in built if d["kind"] == "Service" and d["metadata"]["name"] == "tekton-results-tui-api")
    dep = next(d for d in built if d["kind"] == "Deployment")
    assert svc["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    assert svc["spec"]["ports"] == [{"name": "api", "port": 8080, "targetPort": "api", "protocol": "TCP"}]


def test_roles_allow_the_reviews_serve_asks(built) -> None:
    role = next(d for d in built if d["kind"] == "ClusterRole" and d["metadata"]["name"] == "tekton-results-tui")
    rules = {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]
             for v in rule["verbs"]}
    assert ("authentication.k8s.io", "tokenreviews", "create") in rules
    assert ("authorization.k8s.io", "subjectaccessreviews", "create") in rules
