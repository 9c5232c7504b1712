"""`tekton-results-tui logs --grep PATTERN [FILTER ...]` and `reindex-logs`, in-process on SQLite."""

from __future__ import annotations

import json

import pytest
from logkit import store_run
from store_objects import T0

from tekton_results_tui.commands import output
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History

LOG = (b"fetching sources\n"
       b"\x1b[31merror\x1b[0m: connection reset\n"
       b"\x1b]0;retitled\x07bell and title: error seen\n"
       b"done\n")


@pytest.fixture
def url(tmp_path) -> str:
    u = "sqlite:///" + str(tmp_path / "history.db")
    db = open_database(u)
    h = History(db, clock=lambda: T0)
    store_run(h, "web-1", {"build": LOG}, pipeline="build")
    store_run(h, "api-2", {"test": b"all good\nerror: flaky test\n"}, pipeline="deploy", failed=True,
              created=T0 - 300, ns="team\u202ex")
    db.close()
    return u


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    from tekton_results_tui.cli import main

    capsys.readouterr()
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_text_like_grep_n_without_escapes_off_a_terminal(capsys, url: str) -> None:
    rc, out, err = cli(capsys, "logs", "--grep", "error", "--db", url)
    assert rc == 0, err
    assert out.splitlines() == [
        "team\\u202ex/api-2-t/test:2:error: flaky test",  # newest run first; names shown, never obeyed
        "ci/web-1-t/build:2:error: connection reset",  # colour codes removed
        "ci/web-1-t/build:3:bell and title: error seen",  # the OSC title sequence removed too
    ]
    assert "\x1b" not in out and "\x07" not in out


def test_colour_kept_on_a_terminal(capsys, url: str, monkeypatch) -> None:
    monkeypatch.setattr(output, "stdout_is_tty", lambda: True)
    rc, out, _ = cli(capsys, "logs", "--grep", "connection", "--db", url)
    assert rc == 0
    assert out == "ci/web-1-t/build:2:\x1b[31merror\x1b[0m: connection reset\n"
    rc, out, _ = cli(capsys, "logs", "--grep", "title", "--db", url)
    assert "retitled" not in out and "\x07" not in out and out.endswith(":3:bell and title: error seen\n")


def test_filter_context_and_json(capsys, url: str) -> None:
    rc, out, _ = cli(capsys, "logs", "--grep", "error", "status:failed", "--db", url)
    assert rc == 0 and out.splitlines() == ["team\\u202ex/api-2-t/test:2:error: flaky test"]
    rc, out, _ = cli(capsys, "logs", "--grep", "connection", "-C", "1", "pipeline:build", "--db", url)
    assert out.splitlines() == ["ci/web-1-t/build-1-fetching sources", "ci/web-1-t/build:2:error: connection reset",
                                "ci/web-1-t/build-3-bell and title: error seen"]
    rc, out, _ = cli(capsys, "logs", "--grep", '"connection reset"', "-o", "json", "--db", url)
    doc = json.loads(out)
    assert rc == 0 and doc["next_page_token"] is None
    [hit] = doc["hits"]
    assert (hit["namespace"], hit["run"], hit["step"], hit["line"], hit["text"], hit["matches"]) == (
        "ci", "web-1-t", "build", 2, "error: connection reset", [[7, 23]])
    assert hit["pipeline_run"] == "web-1"


def test_nothing_matched_exits_1(capsys, url: str) -> None:
    rc, out, err = cli(capsys, "logs", "--grep", "no-such-text", "--db", url)
    assert (rc, out, err) == (1, "", "")


@pytest.mark.parametrize("argv, says", [
    (["--grep", ""], "empty search"),
    (["--grep", "-"], 'lone "-"'),
    (["--grep", '"'], "unclosed quote"),
    (["--grep", "ab"], "fewer than 3 characters"),
    (["--grep", "error", "status:bogus"], 'bad status "bogus"'),
    (["--grep", "error", "-C", "-1"], "-C -1"),
    (["--grep", "error", "--page-token", "x"], "bad page token"),
    (["two", "names"], "give one run NAME"),
])
def test_bad_input_is_one_line(capsys, url: str, argv: list[str], says: str) -> None:
    rc, out, err = cli(capsys, "logs", *argv, "--db", url)
    assert rc == 2 and out == ""
    assert says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_old_read_only_history_and_reindex(capsys, url: str) -> None:
    db = open_database(url)
    db.execute_sql("DROP TRIGGER log_index_step_log_bd")
    db.execute_sql("DROP TABLE log_fts")
    db.execute_sql("DROP TABLE log_doc")
    db.execute_sql("DELETE FROM meta WHERE key = 'log_index_backfill'")
    db.execute_sql("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    db.close()
    rc, out, err = cli(capsys, "logs", "--grep", "error", "--db", url)
    assert rc == 2 and err.strip().endswith("this history has no log index yet; open it writable once")
    rc, out, err = cli(capsys, "reindex-logs", "--db", url)  # opens writable: migrates, then backfills
    assert rc == 0 and "indexed 2 stored step logs" in out and "complete" in out
    rc, out, _ = cli(capsys, "logs", "--grep", "error", "--db", url)
    assert rc == 0 and len(out.splitlines()) == 3
    rc, out, _ = cli(capsys, "reindex-logs", "--db", url)
    assert rc == 0 and out.strip() == "the log index is complete"


def test_logs_of_one_run_still_work(capsys, url: str) -> None:
    rc, out, _ = cli(capsys, "logs", "api-2-t", "--db", url)
    assert rc == 0 and "error: flaky test" in out
