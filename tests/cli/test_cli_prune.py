"""`prune --older-than`: by the run's completion time, never the row's; dry run changes nothing."""

from __future__ import annotations

from clikit import NOW, Cli
from tekton_results_tui.store.grouping import parse_time

DAY = 86400


def _completed_before(expected: dict, cutoff: int) -> set[str]:
    return {n for n, e in expected.items() if e["end_time"] and parse_time(e["end_time"]) < cutoff}


def test_dry_run_then_prune_by_completion_time(imported: Cli, generated) -> None:
    exp = generated[1]
    # every row was written seconds ago: pruning by row time would forget nothing
    old = _completed_before(exp, NOW - 30 * DAY)
    assert 0 < len(old) < len(exp)
    n_records = sum(exp[n]["record_count"] for n in old)

    rc, out, err = imported("prune", "--older-than", "30d", "--dry-run")
    assert rc == 0, err
    assert out.startswith(f"would forget {len(old)} Results ({n_records} Records) whose runs completed before ")
    assert len(imported.json("results", "--limit", "0")["results"]) == len(exp)  # nothing removed

    rc, out, err = imported("prune", "--older-than", "30d")
    assert rc == 0 and out.startswith(f"forgot {len(old)} Results ({n_records} Records)")
    left = {r["name"] for r in imported.json("results", "--limit", "0")["results"]}
    assert left == set(exp) - old
    # running ones are never pruned, however old the cutoff
    rc, out, _ = imported("prune", "--older-than", "0s")
    running = {n for n, e in exp.items() if e["end_time"] is None}
    assert {r["name"] for r in imported.json("results", "--limit", "0")["results"]} == running
    assert imported("prune", "--older-than", "0s")[1].startswith("forgot 0 Results (0 Records)")


def test_prune_with_filter(imported: Cli, generated) -> None:
    exp = generated[1]
    old_failed = {n for n in _completed_before(exp, NOW - 7 * DAY) if exp[n]["status"] == "FAILURE"}
    rc, out, _ = imported("prune", "--older-than", "7d", "status:failed")
    assert rc == 0 and out.startswith(f'forgot {len(old_failed)} Results') and 'matching "status:failed"' in out
    left = {r["name"] for r in imported.json("results", "--limit", "0")["results"]}
    assert left == set(exp) - old_failed


def test_prune_usage_errors(imported: Cli) -> None:
    rc, _, err = imported("prune", "--older-than", "a month")
    assert rc == 2 and err == "tekton-results-tui: error: --older-than 'a month': expected a duration like 30d, 12h, 2w\n"
    rc, _, err = imported("prune", "--older-than", "30d", "stauts:x")
    assert rc == 2 and 'did you mean "status"' in err


def test_dry_run_on_missing_database_creates_nothing(capsys, tmp_path) -> None:
    rc, _, err = Cli("sqlite:///" + str(tmp_path / "none.db"), capsys)("prune", "--older-than", "1d", "--dry-run")
    assert rc == 2 and "no history at" in err and not (tmp_path / "none.db").exists()
