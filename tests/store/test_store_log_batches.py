"""A batch of several TaskRuns' Logs (a sync page, an import batch): on PostgreSQL one set of statements for the
whole batch (ingest.upsert_log_batch), on SQLite one Log at a time; the same stored logs, changes and index."""

from __future__ import annotations

import pytest
from store_objects import pr, tr

from tekton_results_tui.store import ingest
from tekton_results_tui.store.db import is_sqlite
from tekton_results_tui.store.history import Gone, History, Logs, RunUpsert, StepLogData


def uid(o: dict) -> str:
    return o["metadata"]["uid"]


def steps(word: str) -> list[StepLogData]:
    return [StepLogData("build", "step-build", f"compiling {word}\n".encode()),
            StepLogData("test", "step-test", f"{word} ok\n".encode(), truncated=True)]


@pytest.fixture
def no_one_at_a_time(h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL a batch of Logs must not fall back to one Log at a time (the round trips it saves)."""
    if not is_sqlite(h.db):
        def refuse(*_a: object, **_k: object) -> int:
            raise AssertionError("a PostgreSQL batch of distinct Logs went one Log at a time")

        monkeypatch.setattr(ingest, "upsert_logs", refuse)


def hits(h: History, word: str) -> set[str]:
    return {x.run_uid for x in h.search_logs(word).hits}


@pytest.mark.usefixtures("no_one_at_a_time")
def test_a_batch_of_logs_is_stored_indexed_and_idempotent(h: History) -> None:
    p = pr("p", rv=1)
    runs = [tr(f"t{i}", p, rv=2 + i) for i in range(3)]
    h.apply([RunUpsert(p), *[RunUpsert(t) for t in runs]])
    words = ["alphaword", "bravoword", "charlieword"]
    res = h.apply([Logs(t, steps(w)) for t, w in zip(runs, words)])
    assert res.changed == 3 * (1 + 2)  # each Log Record and its two step logs
    for t, w in zip(runs, words):
        log = h.log_record_for(uid(t))
        assert log is not None and log.kind == "Log" and log.in_cluster
        got = h.step_logs(log.id)
        assert [(s.step, s.container, s.truncated, s.state) for s in got] == [
            ("build", "step-build", False, "stored"), ("test", "step-test", True, "stored")]
        assert h.step_log_text(got[1].id) == f"{w} ok\n".encode()
        assert hits(h, w) == {uid(t)}
    seq = h.current_seq()
    again = h.apply([Logs(t, steps(w)) for t, w in zip(runs, words)])
    assert again.changed == 0 and h.current_seq() == seq


@pytest.mark.usefixtures("no_one_at_a_time")
def test_a_step_changed_under_an_unchanged_log_record_is_a_change(h: History) -> None:
    """Same sizes, so the Log Record's document is the same: only the step's text changed."""
    runs = [tr(f"t{i}", rv=2 + i) for i in range(2)]
    h.apply([RunUpsert(t) for t in runs])
    h.apply([Logs(runs[0], steps("deltaword")), Logs(runs[1], steps("echoword"))])
    log0, log1 = (h.log_record_for(uid(t)) for t in runs)
    assert log0 is not None and log1 is not None
    seq = h.current_seq()
    res = h.apply([Logs(runs[0], steps("deltaxxxx")), Logs(runs[1], steps("echoword"))])
    assert res.changed == 1 + 2  # the Log Record's sequence, then its two step logs
    changed = {r.id for r in h.changes_since(seq).records}
    assert log0.id in changed and log1.id not in changed
    assert h.step_log_text(h.step_logs(log0.id)[0].id) == b"compiling deltaxxxx\n"
    assert hits(h, "deltaxxxx") == {uid(runs[0])} and hits(h, "deltaword") == set()  # reindexed
    assert hits(h, "echoword") == {uid(runs[1])}


@pytest.mark.usefixtures("no_one_at_a_time")
def test_logs_of_a_run_that_left_the_cluster_are_gone_with_it(h: History) -> None:
    gone, alive = tr("gone", rv=2), tr("alive", rv=3)
    h.apply([RunUpsert(gone), RunUpsert(alive)])
    h.apply([Gone(uid(gone), 1_000)])
    h.apply([Logs(gone, steps("foxtrotword")), Logs(alive, steps("golfword"))])
    log_gone, log_alive = h.log_record_for(uid(gone)), h.log_record_for(uid(alive))
    assert log_gone is not None and not log_gone.in_cluster and log_gone.deleted_at == 1_000
    assert log_alive is not None and log_alive.in_cluster


def test_the_same_log_twice_in_a_batch_ends_as_the_later_one(h: History) -> None:
    t = tr("t", rv=2)
    h.apply([RunUpsert(t)])
    h.apply([Logs(t, steps("hotelword")), Logs(t, steps("indiaword-longer"))])
    log = h.log_record_for(uid(t))
    assert log is not None
    assert h.step_log_text(h.step_logs(log.id)[1].id) == b"indiaword-longer ok\n"
    assert hits(h, "indiaword") == {uid(t)} and hits(h, "hotelword") == set()


def test_a_batch_fills_a_second_of_index_keys_in_step_order_then_borrows_the_second_before(
        h: History, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys are allocated downwards within the second of a run's creation (a TaskRun's first step sorts first);
    a full second borrows the one before. Two step logs a second here, so a batch of three overflows."""
    from store_objects import T0

    from tekton_results_tui.store import log_index as li

    monkeypatch.setattr(li, "SECOND_SPAN", 2 * li.DOC_SPAN)
    runs = [tr(f"t{i}", rv=2 + i, created=T0 - 100) for i in range(2)]
    h.apply([RunUpsert(t) for t in runs])
    h.apply([Logs(runs[0], [StepLogData("one", "step-one", b"kilo first\n"),
                            StepLogData("two", "step-two", b"kilo second\n")]),
             Logs(runs[1], [StepLogData("three", "step-three", b"kilo third\n")])])
    hits_in_order = [(x.run_name, x.step) for x in h.search_logs("kilo").hits]
    assert hits_in_order == [("t0", "one"), ("t0", "two"), ("t1", "three")]
    keys = sorted(k for (k,) in h.db.execute_sql("SELECT key FROM log_doc").fetchall())
    second = (T0 - 100) * li.SECOND_SPAN
    assert keys == [second - li.DOC_SPAN, second, second + li.DOC_SPAN]  # t1's step in the second before


@pytest.mark.usefixtures("no_one_at_a_time")
def test_a_log_marked_gone_and_changed_in_one_batch_counts_as_one_log_path_does(h: History) -> None:
    """A Log left in the cluster after its run went (not by this store's writers: an older version's file),
    whose steps then changed: the gone mark stamps the Log's sequence, so the steps' change adds no second
    stamp — 1 + 2, as one Log at a time counts it (the batch counted 4)."""
    gone, other = tr("gone", rv=2), tr("other", rv=3)
    h.apply([RunUpsert(gone), RunUpsert(other)])
    h.apply([Logs(gone, steps("limaword")), Logs(other, steps("mikeword"))])
    h.apply([Gone(uid(gone), 1_000)])
    log = h.log_record_for(uid(gone))
    assert log is not None and not log.in_cluster
    h.db.execute_sql("UPDATE record SET in_cluster = %s WHERE id = %s".replace("%s", h.db.param), (True, log.id))
    res = h.apply([Logs(gone, steps("limaxxxx")), Logs(other, steps("mikeword"))])
    assert res.changed == 1 + 2  # the gone mark, the two step logs
    after = h.log_record_for(uid(gone))
    assert after is not None and not after.in_cluster and after.deleted_at == 1_000
