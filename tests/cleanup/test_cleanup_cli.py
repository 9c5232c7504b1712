"""`tekton-results-tui cleanup`: plan first, --dry-run, confirmation on a terminal only, outcomes, exit codes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from tekton_results_tui.cli import main

from .helpers import CLUSTER, make_run, running, store_run, writes


def setup_runs(sim, history) -> None:
    store_run(history, *make_run(sim, "ok-1", tasks=2))
    store_run(history, *make_run(sim, "ok-2", ns="dev", tasks=1, pipeline="lint"))
    store_run(history, *make_run(sim, "busy-1", pr_status=running(), tr_status=running()))


def cli(db_url: str, kubeconfig: str, *extra: str) -> list[str]:
    return ["cleanup", "--db", db_url, "--kubeconfig", kubeconfig, "--context", "sim", "--cluster-name", CLUSTER, *extra]


def test_dry_run_prints_the_plan_and_deletes_nothing(sim, history, db_url, kubeconfig, capsys):
    setup_runs(sim, history)
    sim.clear_requests()
    assert main(cli(db_url, kubeconfig, "--dry-run")) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        '2 runs to delete (2 PipelineRuns, 3 TaskRuns) from cluster "sim"',
        "Will delete:",
        "  PipelineRun dev/ok-2 (+1 TaskRun)  success, ended " + out.split("dev/ok-2 (+1 TaskRun)  success, ended ")[1].splitlines()[0],
        "  PipelineRun ci/ok-1 (+2 TaskRuns)  success, ended " + out.split("ci/ok-1 (+2 TaskRuns)  success, ended ")[1].splitlines()[0],
        "Will skip 1:",
        "  PipelineRun ci/busy-1  — running",
    ]
    assert "dry run" in err
    assert sim.requests == []
    # a filter narrows it, -n scopes it
    assert main(cli(db_url, kubeconfig, "--dry-run", "-n", "dev")) == 0
    assert capsys.readouterr().out.splitlines()[0] == '1 run to delete (1 PipelineRun, 1 TaskRun) from cluster "sim"'
    assert main(cli(db_url, kubeconfig, "--dry-run", "pipeline:lint")) == 0
    assert "ok-1" not in capsys.readouterr().out


def test_yes_deletes_and_reports_each_run(sim, history, db_url, kubeconfig, capsys):
    setup_runs(sim, history)
    assert main(cli(db_url, kubeconfig, "--yes")) == 0
    out = capsys.readouterr().out.splitlines()
    assert "[1/2] PipelineRun dev/ok-2: deleted with 1 TaskRun" in out
    assert "[2/2] PipelineRun ci/ok-1: deleted with 2 TaskRuns" in out
    assert out[-1] == "2 deleted"
    assert [o["metadata"]["name"] for o in sim.list_objects("pipelineruns")] == ["busy-1"]
    assert history.get_record(uid=history.find_runs("ok-1")[0].uid) is not None  # the history keeps it


def test_some_not_deleted_exits_1(sim, history, db_url, kubeconfig, capsys):
    setup_runs(sim, history)
    sim.faults.forbid("delete", "pipelineruns", "dev")
    assert main(cli(db_url, kubeconfig, "--yes")) == 1
    out = capsys.readouterr().out
    assert "PipelineRun dev/ok-2: not allowed: cannot delete pipelineruns.tekton.dev in namespace dev" in out
    assert out.splitlines()[-1] == "1 not allowed, 1 deleted"


def test_without_yes_and_without_a_terminal_it_refuses(sim, history, db_url, kubeconfig, capsys):
    setup_runs(sim, history)
    sim.clear_requests()
    assert main(cli(db_url, kubeconfig)) == 2
    out, err = capsys.readouterr()
    assert "Will delete:" in out  # the plan is still shown
    assert err.strip() == ("tekton-results-tui: error: refusing to delete 2 runs without a terminal to confirm on; "
                           "pass --yes (or --dry-run to only see the plan)")
    assert writes(sim) == []


def test_bad_flags_are_one_line_errors(sim, db_url, kubeconfig, history, capsys):
    assert main(cli(db_url, kubeconfig, "--keep-since", "soon", "--dry-run")) == 2
    assert capsys.readouterr().err.strip() == \
        "tekton-results-tui: error: --keep-since 'soon': expected a duration like 2h, 7d"
    assert main(cli(db_url, kubeconfig, "statsu:failed", "--dry-run")) == 2
    assert "unknown key" in capsys.readouterr().err
    assert main(["cleanup", "--db", db_url, "--kubeconfig", kubeconfig, "--context", "nope", "--dry-run"]) == 2
    assert "context 'nope' not found" in capsys.readouterr().err


def _run_on_pty(argv: list[str], answer: bytes) -> tuple[int, str]:
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tekton_results_tui", *argv], stdin=slave, stdout=subprocess.PIPE,
                            stderr=slave, close_fds=True)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while b"[y/N]" not in seen and time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 1.0)
        if r:
            seen += os.read(master, 4096)
    os.write(master, answer)
    out, _ = proc.communicate(timeout=60)
    os.close(master)
    return proc.returncode, seen.decode() + out.decode()


def test_on_a_terminal_it_asks_with_the_count(sim, history, db_url, kubeconfig):
    setup_runs(sim, history)
    rc, text = _run_on_pty(cli(db_url, kubeconfig), b"n\n")
    assert rc == 0
    assert 'Delete 2 runs (2 PipelineRuns, 3 TaskRuns) from cluster "sim"? [y/N]' in text
    assert len(sim.list_objects("pipelineruns")) == 3
    rc, text = _run_on_pty(cli(db_url, kubeconfig), b"y\n")
    assert rc == 0, text
    assert "2 deleted" in text
    assert len(sim.list_objects("pipelineruns")) == 1


def test_the_runs_deleted_are_marked_gone_in_the_history_at_once(sim, history, db_url, kubeconfig, capsys):
    """No watcher runs beside this cleanup: the history must not go on saying the deleted runs are in the cluster."""
    pr, kids = make_run(sim, "gone-now", tasks=2)
    store_run(history, pr, kids)
    kept, kept_kids = make_run(sim, "stays", tasks=1, pr_status=running(), tr_status=running())
    store_run(history, kept, kept_kids)
    assert main(cli(db_url, kubeconfig, "--yes")) == 0
    assert "PipelineRun ci/gone-now: deleted with 2 TaskRuns" in capsys.readouterr().out
    for obj in (pr, *kids):
        rec = history.get_record(uid=obj["metadata"]["uid"])
        assert rec is not None and not rec.in_cluster, obj["metadata"]["name"]
    for obj in (kept, *kept_kids):
        assert history.get_record(uid=obj["metadata"]["uid"]).in_cluster
