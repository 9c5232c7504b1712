"""Issue 7 acceptance, end to end: two simulated clusters holding runs with the same names AND the
same uids, each watched by its own `--headless` (`--cluster-name a` / `b`) into one PostgreSQL
schema -> two distinct histories; `cluster:` selects each, in the store and in the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from team_e2e import await_convergence, cluster_runs, stored_runs
from team_e2e import make_sim, spawn  # noqa: F401 - fixtures
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TEKTON_RESULTS_TUI_DB"}
    return subprocess.run([sys.executable, "-m", "tekton_results_tui", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_two_clusters_same_uids_two_histories(pg_url, make_sim, spawn, tmp_path) -> None:
    db = open_database(pg_url)
    history = History(db)
    sa, sb = make_sim(), make_sim()
    for s in (sa, sb):  # the same seed: identical names, uids and statuses in both clusters
        s.preload(pipelineruns=12, taskruns_per=2, namespaces=("ci", "dev"), seed=21)
    # ... then the clusters diverge: b loses one PipelineRun (and its TaskRuns), a gets a new one
    victim = sorted(sb.list_objects("pipelineruns"), key=lambda o: o["metadata"]["name"])[0]["metadata"]
    sb.delete("pipelineruns", victim["namespace"], victim["name"])
    sa.create("pipelineruns", {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
                               "metadata": {"name": "only-in-a", "namespace": "ci", "labels": {"tekton.dev/pipeline": "p"}},
                               "spec": {"pipelineRef": {"name": "p"}}})
    shared = set(cluster_runs(sa)) & set(cluster_runs(sb))
    assert len(shared) >= 30  # the overlap the store must keep apart

    procs = []
    for name, s in (("a", sa), ("b", sb)):
        kc = s.write_kubeconfig(str(tmp_path / f"kubeconfig-{name}"), context="sim")  # the same context name too
        procs.append(spawn(name, "--db", pg_url, "--kubeconfig", kc, "--cluster-name", name,
                           "--no-logs", "--no-events", "--no-annotate"))
    await_convergence(sa, "a", 40)
    await_convergence(sb, "b", 40)
    for p in procs:  # different clusters: different writer locks, both lead
        p.wait_port()
        assert p.metrics()["tekton_results_tui_leader"] == 1
        assert p.terminate() == 0, p.log_text()[-2000:]

    in_a, in_b = stored_runs("a"), stored_runs("b")
    assert set(in_a) == set(cluster_runs(sa)) and set(in_b) == set(cluster_runs(sb))
    assert shared <= set(in_a) & set(in_b)  # the same uid stored once per cluster, never merged
    assert victim["uid"] in in_a and victim["uid"] not in in_b

    prs_a = {o["metadata"]["name"] for o in sa.list_objects("pipelineruns")}
    prs_b = {o["metadata"]["name"] for o in sb.list_objects("pipelineruns")}
    for cluster, names in (("a", prs_a), ("b", prs_b)):
        page = history.list_results(f"cluster:{cluster}", limit=500)
        assert {r.cluster for r in page.items} == {cluster}
        assert {r.display_name for r in page.items} == names
        assert history.count_results(f"cluster:{cluster}") == len(names)

        out = cli("results", f"cluster:{cluster}", "-o", "json", "--limit", "0", "--db", pg_url)
        assert out.returncode == 0, out.stderr
        docs = json.loads(out.stdout)["results"]
        assert {d["cluster"] for d in docs} == {cluster}
        assert {d["display_name"] for d in docs} == names
    assert history.count_results("") == len(prs_a) + len(prs_b)
    assert "only-in-a" in prs_a and "only-in-a" not in prs_b

    # a Result name is the same in both clusters; the table shows which cluster each row is from
    out = cli("results", "--limit", "0", "--db", pg_url)
    assert out.returncode == 0, out.stderr
    header = out.stdout.splitlines()[0].split()
    assert "CLUSTER" in header, out.stdout[:300]
    col = header.index("CLUSTER")
    assert {line.split()[col] for line in out.stdout.splitlines()[1:]} == {"a", "b"}
    db.close()
