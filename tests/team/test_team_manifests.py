"""config/ manifests and the Dockerfile, checked against the code they run.

Every document is parsed and checked field by field against the kubernetes client's own
models (an unknown or misspelt field fails), the Deployment's command line is parsed by
the real CLI parser, its probes are fetched from the real MetricsServer, and the
ClusterRole's rules are compared with the kubernetes client calls the program's sources
make.
"""

from __future__ import annotations

import ast
import inspect
import re
import shutil
import subprocess
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import kubernetes.client as k8s
import pytest
import yaml

from tekton_results_tui import cli
from tekton_results_tui.kinds import RUN_KINDS
from tekton_results_tui.settings import DB_ENV
from tekton_results_tui.watcher.metrics import MetricsServer
from tekton_results_tui.watcher.status import LIVE, WatcherStatus

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
BASE = CONFIG / "base"
NS = "tekton-results-tui"

MODEL_OF_KIND = {
    "Namespace": k8s.V1Namespace,
    "ServiceAccount": k8s.V1ServiceAccount,
    "ClusterRole": k8s.V1ClusterRole,
    "ClusterRoleBinding": k8s.V1ClusterRoleBinding,
    "Deployment": k8s.V1Deployment,
    "Service": k8s.V1Service,
}


def load(path: Path) -> list[dict]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def base_docs() -> list[dict]:
    return [d for p in sorted(BASE.glob("*.yaml")) if p.name != "kustomization.yaml" for d in load(p)]


def one(kind: str, name: str | None = None) -> dict:
    found = [d for d in base_docs() if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


# --- every document is well-formed -------------------------------------------------------


def strict_check(value: Any, typ: str, where: str, errors: list[str]) -> None:
    """Walk `value` against the client model type `typ`; report fields the API does not have."""
    m = re.fullmatch(r"(?:List|list)\[(.+)\]", typ)
    if m:
        if not isinstance(value, list):
            errors.append(f"{where}: expected a list")
            return
        for i, item in enumerate(value):
            strict_check(item, m.group(1), f"{where}[{i}]", errors)
        return
    if typ.startswith(("Dict[", "dict(")) or typ == "object":
        return
    if typ in ("str", "int", "bool", "float", "datetime"):
        py = {"str": str, "int": int, "bool": bool, "float": (int, float), "datetime": str}[typ]
        if not isinstance(value, py) or (typ == "int" and isinstance(value, bool)):
            errors.append(f"{where}: expected {typ}, got {value!r}")
        return
    model = getattr(k8s, typ)
    if not isinstance(value, dict):
        errors.append(f"{where}: expected an object ({typ})")
        return
    by_json = {j: a for a, j in model.attribute_map.items()}
    for key, sub in value.items():
        if key not in by_json:
            errors.append(f"{where}.{key}: not a field of {typ}")
            continue
        strict_check(sub, model.openapi_types[by_json[key]], f"{where}.{key}", errors)


def test_every_yaml_parses_and_every_base_file_is_listed() -> None:
    for p in sorted(CONFIG.rglob("*.yaml")):
        for d in load(p):
            assert isinstance(d, dict) and d.get("apiVersion") and d.get("kind"), p
    listed = set(yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"])
    on_disk = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk, "config/base/kustomization.yaml must list every manifest"
    assert yaml.safe_load((CONFIG / "kustomization.yaml").read_text())["resources"] == ["base"]


def test_kinds_and_every_field_known_to_the_api() -> None:
    docs = base_docs()
    assert sorted(d["kind"] for d in docs) == sorted(
        ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRole", "ClusterRoleBinding", "Deployment", "Service"])
    errors: list[str] = []
    for d in docs:
        model = MODEL_OF_KIND[d["kind"]]
        strict_check(d, model.__name__, f"{d['kind']}/{d['metadata']['name']}", errors)
    assert not errors, "\n".join(errors)


def test_strict_check_catches_a_misspelt_field() -> None:
    dep = one("Deployment")
    dep["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    errors: list[str] = []
    strict_check(dep, "V1Deployment", "Deployment", errors)
    assert errors and "readinesProbe" in errors[0]


def test_objects_refer_to_each_other() -> None:
    sa = one("ServiceAccount")
    assert sa["metadata"]["namespace"] == NS == one("Namespace")["metadata"]["name"]
    binding = one("ClusterRoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "tekton-results-tui"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"], "namespace": NS}]
    dep = one("Deployment")
    assert dep["metadata"]["namespace"] == NS
    pod = dep["spec"]["template"]
    assert pod["spec"]["serviceAccountName"] == sa["metadata"]["name"]
    labels = pod["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    svc = one("Service")
    assert svc["metadata"]["namespace"] == NS
    assert svc["spec"]["selector"].items() <= labels.items()
    assert svc["spec"]["ports"][0]["targetPort"] == "metrics"


# --- the Deployment runs what the program understands ----------------------------------


def container() -> dict:
    return one("Deployment")["spec"]["template"]["spec"]["containers"][0]


def metrics_port() -> int:
    ports = {p["name"]: p["containerPort"] for p in container()["ports"]}
    return ports["metrics"]


def expand(args: list[str], env: dict[str, str]) -> list[str]:
    """Kubernetes' $(VAR) expansion of container args."""
    return [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in args]


def test_deployment_command_line_parses_as_headless_with_metrics(monkeypatch) -> None:
    dep = one("Deployment")
    assert dep["spec"]["replicas"] == 2
    c = container()
    literal_env = {e["name"]: e["value"] for e in c["env"] if "value" in e}
    args = cli.build_parser().parse_args(expand(c["args"], literal_env))
    assert args.headless and args.log_format == "json"
    assert args.metrics_port == metrics_port() == 9090
    assert args.cluster_name == literal_env["CLUSTER_NAME"]
    # the DB URL: from the Secret into the env var the program reads as its --db default
    db_env = [e for e in c["env"] if e["name"] == DB_ENV]
    assert db_env == [{"name": DB_ENV, "valueFrom": {"secretKeyRef": {"name": "tekton-results-tui-db", "key": "url"}}}]
    assert not any("postgresql://" in a for a in c["args"]), "no credentials in args"
    monkeypatch.setenv(DB_ENV, "postgresql://watcher:pw@pg:5432/results")
    assert cli.settings_from_args(args).store.db_url == "postgresql://watcher:pw@pg:5432/results"


def test_probes_hit_the_metrics_server_paths() -> None:
    c = container()
    probes = {k: c[k]["httpGet"] for k in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes["livenessProbe"]["path"] == "/healthz" and probes["readinessProbe"]["path"] == "/readyz"
    assert {p["port"] for p in probes.values()} == {"metrics"}
    # the real server answers those paths (200 for a live watcher)
    srv = MetricsServer(0, lambda: WatcherStatus(state=LIVE, connected=True), host="127.0.0.1")
    srv.start()
    try:
        for p in probes.values():
            with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}{p['path']}", timeout=5) as r:
                assert r.status == 200
    finally:
        srv.stop()


def test_pod_is_locked_down() -> None:
    pod = one("Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    c = container()
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
    assert pod["securityContext"]["runAsUser"] == dockerfile_user()


# --- RBAC against the kubernetes client calls in the sources --------------------------

TEKTON = [(k.group, k.plural) for k in RUN_KINDS]  # every run kind the program watches, stores and may delete
# client method -> (resources, verb). A call missing here fails the test: add it, and the rule.
CALLS: dict[str, tuple[list[tuple[str, str]], str]] = {
    "list_cluster_custom_object": (TEKTON, "list"),
    "list_namespaced_custom_object": (TEKTON, "list"),
    "get_namespaced_custom_object": (TEKTON, "get"),
    "get_cluster_custom_object": (TEKTON, "get"),
    "patch_namespaced_custom_object": (TEKTON, "patch"),
    "delete_namespaced_custom_object": (TEKTON, "delete"),
    "replace_namespaced_custom_object": (TEKTON, "update"),
    "read_namespaced_pod_log": ([("", "pods/log")], "get"),
    "read_namespaced_pod": ([("", "pods")], "get"),
    "list_namespaced_pod": ([("", "pods")], "list"),
    "list_namespaced_event": ([("", "events")], "list"),
    "list_event_for_all_namespaces": ([("", "events")], "list"),
    "list_namespace": ([("", "namespaces")], "list"),
    "create_self_subject_access_review": ([("authorization.k8s.io", "selfsubjectaccessreviews")], "create"),
    "create_self_subject_rules_review": ([("authorization.k8s.io", "selfsubjectrulesreviews")], "create"),
    "create_token_review": ([("authentication.k8s.io", "tokenreviews")], "create"),
    "create_subject_access_review": ([("authorization.k8s.io", "subjectaccessreviews")], "create"),
    # discovery and /version: open to every authenticated user (system:discovery, public-info-viewer)
    "get_code": ([], "get"),
    "get_api_resources": ([], "get"),
    "get_api_versions": ([], "get"),
    "get_api_group": ([], "get"),
}
WRITE_VERBS = {"patch", "delete", "update", "create", "deletecollection"}
REVIEWS = ("selfsubjectaccessreviews", "selfsubjectrulesreviews", "tokenreviews", "subjectaccessreviews")  # ask, change nothing


def kube_methods() -> set[str]:
    names: set[str] = set()
    for cname, cls in inspect.getmembers(k8s, inspect.isclass):
        if cname.endswith("Api") and cls.__module__.startswith("kubernetes.client.api"):
            names |= {n for n in vars(cls) if re.match(r"(list|read|get|create|patch|replace|delete|connect)_", n)}
    return {re.sub(r"_(with_http_info|without_preload_content)$", "", n) for n in names}


def program_sources() -> list[Path]:
    pkg = ROOT / "tekton_results_tui"
    return [p for p in pkg.rglob("*.py") if "sim" not in p.relative_to(pkg).parts[:1]]


def calls_in_sources() -> dict[str, set[tuple[str, str, str]]]:
    """{"file:line method": {(group, resource, verb)}} for every client method the program names."""
    known = kube_methods()
    found: dict[str, set[tuple[str, str, str]]] = {}
    trees = {path: ast.parse(path.read_text(), str(path)) for path in program_sources()}
    # a list call made with watch=True anywhere (the informer hands it to a shared list helper that
    # names the client method in another module) makes every custom-object list a watch too
    watches_somewhere = any(isinstance(node, ast.keyword) and node.arg == "watch" and isinstance(node.value, ast.Constant)
                            and node.value.value is True for tree in trees.values() for node in ast.walk(tree))
    for path, tree in trees.items():
        streamed: set[str] = set()
        streams_anything = watches_somewhere
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "stream":
                streams_anything = True
                if node.args and isinstance(node.args[0], ast.Attribute):
                    streamed.add(node.args[0].attr)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and node.attr in known):
                continue
            method = re.sub(r"_(with_http_info|without_preload_content)$", "", node.attr)
            where = f"{path.relative_to(ROOT)}:{node.lineno} {method}"
            assert method in CALLS, f"{where}: unknown kubernetes call — add it to CALLS and to config/base/rbac.yaml"
            resources, verb = CALLS[method]
            perms = {(g, r, verb) for g, r in resources}
            # a list function handed to watch.Watch().stream() also needs watch; an informer
            # may hold it in a variable, so any custom-object list in a streaming file counts
            if method in streamed or (streams_anything and method.endswith("_custom_object") and verb == "list"):
                perms |= {(g, r, "watch") for g, r in resources}
            found[where] = perms
    return found


def granted(role: dict) -> set[tuple[str, str, str]]:
    return {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


def test_cluster_role_grants_what_the_code_calls() -> None:
    role = granted(one("ClusterRole", "tekton-results-tui"))
    found = calls_in_sources()
    needed = set().union(*found.values()) if found else set()
    missing = needed - role
    assert not missing, f"config/base/rbac.yaml lacks {sorted(missing)} used at {sorted(w for w, p in found.items() if p & missing)}"
    if not any(v == "watch" for _, _, v in needed):
        pytest.skip("the watcher's sources are not in the tree yet: only 'nothing missing' was checked")
    extra = role - needed
    assert not extra, f"config/base/rbac.yaml grants {sorted(extra)} that no code calls: least privilege"


def test_call_scanner_sees_calls_and_watch() -> None:
    """The scanner itself: it finds a client call and the watch implied by streaming it."""
    src = ("from kubernetes import watch\n"
           "def f(api, core):\n"
           "    w = watch.Watch()\n"
           "    for e in w.stream(api.list_cluster_custom_object, 'tekton.dev', 'v1', 'taskruns'): pass\n"
           "    core.read_namespaced_pod_log('p', 'ns', container='step-a')\n")
    tree = ast.parse(src)
    attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} & kube_methods()
    assert attrs == {"list_cluster_custom_object", "read_namespaced_pod_log"}


def test_readonly_role_has_no_writes_and_keeps_the_reads() -> None:
    full = granted(one("ClusterRole", "tekton-results-tui"))
    ro = granted(one("ClusterRole", "tekton-results-tui-readonly"))
    writes = {p for p in ro if p[2] in WRITE_VERBS and p[1] not in REVIEWS}
    assert not writes, f"read-only role may write: {sorted(writes)}"
    reads = {p for p in full if p[2] not in WRITE_VERBS or p[1] in REVIEWS}
    assert ro == reads
    assert ("tekton.dev", "pipelineruns", "patch") in full and ("tekton.dev", "taskruns", "delete") in full


def test_every_registry_kind_is_in_both_roles() -> None:
    """A kind added to kinds.py is watched and cleaned up: both roles must name it (read-only without writes)."""
    full = granted(one("ClusterRole", "tekton-results-tui"))
    ro = granted(one("ClusterRole", "tekton-results-tui-readonly"))
    for k in RUN_KINDS:
        assert {(k.group, k.plural, v) for v in ("get", "list", "watch", "patch", "delete")} <= full, k.name
        assert {(k.group, k.plural, v) for v in ("get", "list", "watch")} <= ro, k.name
        assert not {v for g, r, v in ro if (g, r) == (k.group, k.plural)} & WRITE_VERBS, k.name


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed: kustomize builds not checked")
def test_kustomize_builds_full_and_readonly() -> None:
    def build(path: Path) -> list[dict]:
        out = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return [d for d in yaml.safe_load_all(out.stdout) if d]

    full = build(CONFIG)
    assert sorted(d["kind"] for d in full) == sorted(d["kind"] for d in base_docs())
    ro = build(CONFIG / "readonly")
    binding = next(d for d in ro if d["kind"] == "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == "tekton-results-tui-readonly"
    c = next(d for d in ro if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]
    literal_env = {e["name"]: e["value"] for e in c["env"] if "value" in e}
    args = cli.build_parser().parse_args(expand(c["args"], literal_env))
    assert args.headless and args.no_annotate


# --- the container build file ----------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1].strip() if " " in ln.strip() else "")
            for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def dockerfile_user() -> int:
    users = [arg for ins, arg in dockerfile() if ins == "USER"]
    return int(users[-1].split(":")[0])


def test_dockerfile_builds_the_console_script_as_non_root() -> None:
    ins = dockerfile()
    froms = [a for i, a in ins if i == "FROM"]
    assert all(f.split()[0] == "python:3.11-slim" for f in froms)
    assert dockerfile_user() != 0
    import json

    entry = json.loads(next(a for i, a in reversed(ins) if i == "ENTRYPOINT"))
    cmd = json.loads(next(a for i, a in reversed(ins) if i == "CMD"))
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert entry == ["tekton-results-tui"] and "tekton-results-tui" in scripts
    assert cmd == ["--headless"] and cli.build_parser().parse_args(cmd).headless
    for i, a in ins:  # every COPY source from the context exists
        if i == "COPY" and not a.startswith("--from"):
            for src in a.split()[:-1]:
                assert (ROOT / src).exists(), f"COPY {src}: not in the repo"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored
