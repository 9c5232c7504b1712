"""What a search says about step logs the index lacks: they are being indexed (a watcher builds the index:
its heartbeat is recent), else run reindex-logs (nothing writes the history). SQLite files, in-process CLI."""

from __future__ import annotations

import time

import pytest
from logkit import store_run
from store_objects import T0

from tekton_results_tui.store import log_index as li
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History


@pytest.fixture
def url(tmp_path) -> str:
    u = "sqlite:///" + str(tmp_path / "history.db")
    db = open_database(u)
    h = History(db, clock=lambda: T0)
    for n in range(3):
        store_run(h, f"r{n}", {"build": b"compiling\nerror: boom %d\n" % n}, created=T0 - 900 + n * 60)
    li.empty_index(db)
    db.close()
    return u


def grep(capsys, url: str) -> tuple[int, str, str]:
    from tekton_results_tui.cli import main

    capsys.readouterr()
    rc = main(["logs", "--grep", "error", "--db", url])
    out, err = capsys.readouterr()
    return rc, out, err


def test_nothing_builds_the_index_so_the_note_says_run_reindex_logs(capsys, url: str) -> None:
    rc, out, err = grep(capsys, url)
    assert rc == 1 and out == ""
    assert err.strip() == ("note: 3 stored step logs are not in the log index yet and were not searched; "
                           "run `tekton-results-tui reindex-logs`")


def test_a_watcher_building_the_index_is_said_instead(capsys, url: str) -> None:
    db = open_database(url)
    try:
        History(db).reindex_logs_batch(1)  # as the watcher's writer does while idle: one batch, a heartbeat
        assert History(db).log_index_being_built()
    finally:
        db.close()
    rc, out, err = grep(capsys, url)
    assert rc == 0 and len(out.splitlines()) == 1
    assert err.strip() == ("note: 2 stored step logs are not in the log index yet and were not searched; "
                           "they are being indexed now (by the watcher writing this history)")


def test_an_old_heartbeat_is_not_a_watcher_building_it(url: str) -> None:
    db = open_database(url)
    try:
        h = History(db)
        h.reindex_logs_batch(1)
        h.set_value(li.BACKFILL_AT_KEY, str(int(time.time() - li.BUILDING_WINDOW_S - 1)))
        assert not h.log_index_being_built()
        h.set_value(li.BACKFILL_AT_KEY, "not a time")
        assert not h.log_index_being_built()
    finally:
        db.close()
