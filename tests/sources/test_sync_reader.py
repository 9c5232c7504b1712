"""A long sync pass read by the reader process (sources/sync_reader.py) while this one writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from fake_results import FakeResults
from foreground import foreground
from store_objects import pr, tr

from tekton_results_tui.bootstrap import history_at
from tekton_results_tui.sources import sync as sync_module
from tekton_results_tui.sources.client import HttpError, ResultsClient
from tekton_results_tui.sources.cursor import Cursor
from tekton_results_tui.sources.sync import ResultsSync
from tekton_results_tui.sources.wire import SourceRecord
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History

CLUSTER = "src"


def fill(fake: FakeResults, n: int, logs: bool = True) -> None:
    for i in range(n):
        p = pr(f"run-{i}")
        t = tr(f"run-{i}-t", p)
        fake.put_run(p)
        fake.put_run(t)
        if logs:
            fake.put_log(t, f"[build] line of run {i}\n[test] ok {i}\n".encode())


def contents(h: History) -> dict[str, object]:
    """Record name -> stored object, and each Log's step logs (name, text, truncated)."""
    out: dict[str, object] = {}
    token = None
    while True:
        page = h.list_records(None, page_token=token, limit=500, order="newest")
        for r in page.items:
            out[r.name] = h.record_data(r.id)
            if r.kind == "Log":
                out[r.name + "#steps"] = [(s.step, h.step_log_text(s.id), s.truncated) for s in h.step_logs(r.id)]
        token = page.next_token
        if not token:
            return out


def new_sync(h: History, fake: FakeResults, **kw) -> ResultsSync:
    client = ResultsClient(fake.url, read_timeout_s=10, retries=kw.pop("retries", 3))
    return ResultsSync(h, client, CLUSTER, **kw)


def test_a_long_pass_is_read_by_the_reader_process_and_stores_the_same(fake, tmp_path):
    """Default thresholds: a first page that is full and at least READER_MIN_PAGE_SIZE long sends the rest of
    the pass to the reader process; what lands is what a pass read in this process stores."""
    fill(fake, 150)  # 450 records: pages of 200
    size = sync_module.READER_MIN_PAGE_SIZE
    got = {}
    for name, reader in (("reader", None), ("in-process", False)):
        db = open_database("sqlite:///" + str(tmp_path / f"{name}.db"))  # one open history at a time
        try:
            h = History(db)
            st = new_sync(h, fake, page_size=size, reader_process=reader).run_once()
            assert (st.records, st.runs, st.logs, st.skipped) == (450, 300, 150, 0), st.skipped_names
            assert st.reader_pages == (2 if reader is None else 0)
            got[name] = contents(h)
            if reader is None:  # nothing changed: the next pass reads no more than the records at the cursor
                again = new_sync(h, fake, page_size=size).run_once()
                assert again.applied == 0 and again.reader_pages == 0
        finally:
            db.close()
    assert got["reader"] == got["in-process"] and len(got["reader"]) == 450 + 150
    logs = [v for k, v in got["reader"].items() if k.endswith("#steps")]
    assert len(logs) == 150 and all([s[0] for s in steps] == ["build", "test"] for steps in logs)


def test_pages_waiting_for_the_writer_are_applied_together(fake, history):
    fill(fake, 20, logs=False)  # 40 records, 8 pages of 5
    h = history
    calls = []
    real = h.apply

    def counting(changes, **kw):
        calls.append(len(changes))
        return real(changes, **kw)

    h.apply = counting
    s = new_sync(h, fake, page_size=5, reader_process=True)
    s.min_batch_runs = 15
    st = s.run_once()
    assert st.runs == 40 and st.pages == 8 and st.reader_pages == 7
    # the first page alone (read here), then batches of at least 15 runs (whole pages) but the last
    assert calls[0] == 5 and all(n >= 15 for n in calls[1:-1]) and sum(calls) == 40 and len(calls) <= 4


def test_the_cursor_never_passes_a_batch_that_was_not_written(fake, history):
    """The store fails mid-pass (a full disk): the cursor counts as applied only what was committed, and the
    next pass stores the rest."""
    fill(fake, 20, logs=False)
    h = history
    real = h.apply
    calls = []

    def failing(changes, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("database or disk is full")
        return real(changes, **kw)

    h.apply = failing
    s = new_sync(h, fake, page_size=5, reader_process=True)
    s.min_batch_runs = 10
    with pytest.raises(RuntimeError, match="disk is full"):
        s.run_once()
    cur = Cursor.load(h, s.key, s.client.base_url)
    assert cur.time_ns > 0  # two batches were written and passed
    counted = stored = 0
    for r in fake.records.values():
        src = SourceRecord(r.name, r.type, r.text.encode(), r.update_ns, r.etag)
        uid = json.loads(r.text)["metadata"]["uid"]
        if cur.applied(src):
            counted += 1
            assert h.get_record(uid=uid, cluster=CLUSTER) is not None, f"{r.name} marked synced, never written"
        stored += h.get_record(uid=uid, cluster=CLUSTER) is not None
    assert 0 < counted <= stored < 40
    h.apply = real
    assert s.run_once().skipped == 0
    assert all(h.get_record(uid=json.loads(r.text)["metadata"]["uid"], cluster=CLUSTER) for r in fake.records.values())


def test_the_source_failing_under_the_reader_is_the_same_error_and_the_next_pass_resumes(fake, history):
    fill(fake, 20)  # 60 records, 12 pages of 5
    h = history
    fake.hold_after = 2  # the reader's second page waits: the server starts failing meanwhile
    s = new_sync(h, fake, page_size=5, reader_process=True, retries=0)
    s.min_batch_runs = 1
    failed: list[BaseException] = []

    def run() -> None:
        try:
            s.run_once()
        except BaseException as exc:  # noqa: BLE001 - looked at below
            failed.append(exc)

    th = threading.Thread(target=run)
    th.start()
    assert fake.held.wait(60)
    fake.mode = "503"
    fake.gate.set()
    th.join(60)
    assert not th.is_alive()
    assert len(failed) == 1 and isinstance(failed[0], HttpError) and failed[0].status == 503, failed
    assert str(failed[0]).startswith("list records: HTTP 503")
    partial = len(contents(h))
    assert 5 <= partial < 80
    fake.mode, fake.hold_after = "ok", 0
    fake.requests.clear()
    st = s.run_once()
    assert st.skipped == 0
    assert "update_time >= timestamp(" in fake.list_requests()[0]["filter"][0]  # from the cursor on
    assert len(contents(h)) == 60 + 20


def _reader_children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if ppid == pid and b"sources.sync_reader" in cmd:
            out.append(int(entry))
    return out


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGKILL, -signal.SIGKILL)], ids=["ctrl-c", "kill-9"])
def test_interrupted_with_a_reader_process_exits_at_once_and_resumes(sqlite_url, tmp_path, sig, code):
    """Ctrl-C: exit 130 at once, the reader process ended with it; kill -9: the reader ends by itself once
    it has something to send. Either way the next sync completes the same history as an uninterrupted one."""
    fake = FakeResults().start()
    try:
        fill(fake, 150)  # 450 records, pages of 200: the first read here, the rest by the reader
        fake.hold_after = 2  # the reader's second page waits until the signal was sent
        cmd = [sys.executable, "-m", "tekton_results_tui", "sync", "--results-api", fake.url, "--db", sqlite_url,
               "--cluster-name", CLUSTER, "--page-size", "200", "-q"]
        proc = subprocess.Popen(foreground(cmd), stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 120
            while not fake.held.wait(0.5) and proc.poll() is None and time.monotonic() < deadline:
                pass
            assert fake.held.is_set() and proc.poll() is None, proc.stderr.read()  # type: ignore[union-attr]
            children = _reader_children(proc.pid)
            assert len(children) == 1
            os.kill(proc.pid, sig)
            rc = proc.wait(30)
            assert rc == code, proc.stderr.read()  # type: ignore[union-attr]
            if sig == signal.SIGINT:  # the sync ended its reader, which was waiting for the held page
                assert _gone(children[0], 10), "a Ctrl-C'd sync left its reader process running"
            fake.gate.set()  # only now: the signal did not wait for the held page
            # killed, the sync could not: its reader ends once it has a page and nobody to send it to
            assert _gone(children[0], 30), "the reader process outlived the sync"
        finally:
            fake.gate.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        fake.hold_after = 0
        rc = subprocess.run(cmd, capture_output=True, timeout=300)
        assert rc.returncode == 0, rc.stderr
        clean = "sqlite:///" + str(tmp_path / "clean.db")
        rc = subprocess.run(cmd[:7] + [clean] + cmd[8:], capture_output=True, timeout=300)
        assert rc.returncode == 0, rc.stderr
        with history_at(sqlite_url, read_only=True) as a, history_at(clean, read_only=True) as b:
            got, want = contents(a), contents(b)
        assert got == want and len(got) == 450 + 150
    finally:
        fake.gate.set()
        fake.stop()
