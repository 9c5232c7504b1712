"""`--auth kubernetes` through the simulated cluster and the real kubernetes client: TokenReview, then
SubjectAccessReview per call (impersonation when the caller may impersonate); every failure the same
bare 401. TLS with a self-signed certificate; `--auth none` only on loopback."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from apikit import API, populate, served
from simkit import start_sim

from tekton_results_tui import cli
from tekton_results_tui.api.server import ServeOptions, auth_mode, kubernetes_authorizer
from tekton_results_tui.errors import UsageError
from tekton_results_tui.sim import SimCluster
from tekton_results_tui.sim.auth import auth_of
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History

UNAUTHENTICATED = {"code": 16, "message": "Unauthenticated", "details": []}
READ = ("get", "list")
RESOURCES = ("results", "records", "logs")


@pytest.fixture
def sqlite_history(tmp_path: Path) -> Iterator[History]:
    db = open_database(f"sqlite:///{tmp_path / 'h.db'}")
    h = History(db)
    populate(h)
    yield h
    db.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[SimCluster, str]]:
    sim = start_sim()
    a = auth_of(sim)
    a.add_token("alice-token", "alice", ("devs", "system:authenticated"))
    a.add_token("carol-token", "carol")
    a.add_token("bob-token", "bob")
    a.add_token("admin-token", "ops-admin")
    a.allow("alice", READ, RESOURCES, group="results.tekton.dev", namespace="ci")
    a.allow("carol", READ, ("results",), group="results.tekton.dev")  # every namespace
    a.allow("ops-admin", ("impersonate",), ("users",), names=("alice",))
    a.allow("ops-admin", ("impersonate",), ("serviceaccounts",), namespace="ci", names=("reader",))
    a.allow("system:serviceaccount:ci:reader", READ, RESOURCES, group="results.tekton.dev", namespace="ci")
    try:
        yield sim, sim.write_kubeconfig(str(tmp_path / "kubeconfig"), context="sim")
    finally:
        sim.stop()


@pytest.fixture
def secured(sqlite_history: History, cluster: tuple[SimCluster, str]) -> Iterator[tuple[str, SimCluster]]:
    sim, kubeconfig = cluster
    with served(authorizer=kubernetes_authorizer(kubeconfig, "sim")) as url:
        yield url, sim


def _get(url: str, path: str, token: str | None = None, **headers: str) -> requests.Response:
    h = dict(headers)
    if token:
        h["Authorization"] = f"Bearer {token}"
    return requests.get(url + API + path, headers=h, timeout=30)


def test_allowed_in_the_granted_namespace_only(secured) -> None:
    url, sim = secured
    r = _get(url, "/ci/results", "alice-token")
    assert r.status_code == 200 and len(r.json()["results"]) == 4
    assert _get(url, "/ci/results/-/records", "alice-token").status_code == 200
    assert _get(url, "/ci/results/-/logs", "alice-token").status_code == 200
    for path in ("/prod/results", "/-/results", "/prod/results/-/records"):
        r = _get(url, path, "alice-token")
        assert r.status_code == 401 and r.json() == UNAUTHENTICATED, path
    reviews = [rv for rv in auth_of(sim).reviews if rv.get("group") == "results.tekton.dev"]
    assert {"user": "alice", "groups": ["devs", "system:authenticated"], "namespace": "ci",
            "group": "results.tekton.dev", "resource": "results", "verb": "list"} in reviews
    assert any(rv["namespace"] == "" and rv["verb"] == "list" for rv in reviews if rv["user"] == "alice")


def test_all_namespaces_needs_a_cluster_wide_grant(secured) -> None:
    url, _ = secured
    assert len(_get(url, "/-/results", "carol-token").json()["results"]) == 6
    assert _get(url, "/-/results/-/records", "carol-token").status_code == 401  # results only


def test_every_failure_is_the_same_bare_401(secured) -> None:
    url, _ = secured
    cases = [_get(url, "/ci/results"), _get(url, "/ci/results", "no-such-token"), _get(url, "/ci/results", "bob-token"),
             requests.get(url + API + "/ci/results", headers={"Authorization": "Basic YTpi"}, timeout=30),
             _get(url, "/ci/results", "alice-token", **{"Impersonate-User": "carol"})]
    for r in cases:
        assert r.status_code == 401 and r.json() == UNAUTHENTICATED


def test_impersonation_when_the_caller_may(secured) -> None:
    url, sim = secured
    # the admin cannot read by itself, but may act as alice
    assert _get(url, "/ci/results", "admin-token").status_code == 401
    r = _get(url, "/ci/results", "admin-token", **{"Impersonate-User": "alice"})
    assert r.status_code == 200
    assert _get(url, "/prod/results", "admin-token", **{"Impersonate-User": "alice"}).status_code == 401
    # ...not as anyone else, and not with groups it may not impersonate
    assert _get(url, "/ci/results", "admin-token", **{"Impersonate-User": "carol"}).status_code == 401
    assert _get(url, "/ci/results", "admin-token", **{"Impersonate-User": "alice",
                                                      "Impersonate-Group": "system:masters"}).status_code == 401
    # a service account: the SA's own namespace in the check, its groups implied
    sa = "system:serviceaccount:ci:reader"
    assert _get(url, "/ci/results", "admin-token", **{"Impersonate-User": sa}).status_code == 200
    reviews = auth_of(sim).reviews
    assert {"user": "ops-admin", "groups": ["system:authenticated"], "namespace": "ci", "name": "reader",
            "resource": "serviceaccounts", "verb": "impersonate"} in reviews
    assert any(rv["user"] == sa and rv["groups"] == ["system:serviceaccounts", "system:serviceaccounts:ci"]
               and rv.get("group") == "results.tekton.dev" for rv in reviews)


def test_an_unreachable_cluster_denies(sqlite_history, cluster) -> None:
    sim, kubeconfig = cluster
    authz = kubernetes_authorizer(kubeconfig, "sim")
    sim.stop()
    with served(authorizer=authz) as url:
        r = _get(url, "/ci/results", "alice-token")
        assert r.status_code == 401 and r.json() == UNAUTHENTICATED


def test_auth_none_is_refused_off_loopback(tmp_path: Path, capsys) -> None:
    assert auth_mode(ServeOptions(auth="none"), "127.0.0.1") == "none"
    assert auth_mode(ServeOptions(auth=None), "::1") == "none"
    assert auth_mode(ServeOptions(auth=None), "0.0.0.0") == "kubernetes"
    with pytest.raises(UsageError, match="not a loopback address"):
        auth_mode(ServeOptions(auth="none"), "0.0.0.0")
    db = tmp_path / "h.db"
    open_database(f"sqlite:///{db}").close()
    rc = cli.main(["serve", "--db", f"sqlite:///{db}", "--listen", "0.0.0.0:0", "--auth", "none"])
    assert rc == 2 and "not a loopback address" in capsys.readouterr().err


def _self_signed(tmp_path: Path) -> tuple[str, str]:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return str(cert), str(key)


def test_tls(sqlite_history, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    with served(tls=(cert, key)) as url:
        assert url.startswith("https://")
        r = requests.get(url + API + "/-/results", verify=cert, timeout=30)
        assert r.status_code == 200 and len(r.json()["results"]) == 6
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url + "/healthz", timeout=30)  # not trusted without the certificate
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(url.replace("https://", "http://") + "/healthz", timeout=30)
    with pytest.raises(UsageError, match="go together"):
        with served(tls=(cert, "")):
            pass


def test_an_allowed_question_is_asked_once_a_denied_one_every_time(secured) -> None:
    url, sim = secured
    a = auth_of(sim)
    assert _get(url, "/ci/results", "alice-token").status_code == 200
    n = len(a.reviews)
    for _ in range(5):
        assert _get(url, "/ci/results", "alice-token").status_code == 200
    assert len(a.reviews) == n  # reused for a few seconds: one review per client, not per request
    assert _get(url, "/prod/results", "alice-token").status_code == 401
    a.allow("alice", READ, RESOURCES, group="results.tekton.dev", namespace="prod")
    assert _get(url, "/prod/results", "alice-token").status_code == 200  # a refusal is never remembered
