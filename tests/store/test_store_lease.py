"""The writer lease notices death: a holder on this host whose process is gone (kill -9), a zombie,
or whose pid now belongs to another process, no longer keeps others out — no wait for expiry.
A living holder, or one on another host, is still judged by expiry only."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from tekton_results_tui.store import models as m
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History

NAME = "watcher:test"
TTL = 3600.0  # far longer than any test: only liveness can free it

HOLDER = """
import sys, time
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History
h = History(open_database(sys.argv[1]))
assert h.acquire_lease(sys.argv[2], "holder-a", float(sys.argv[3]), info={"cluster": "test"})
print("held", flush=True)
sys.stdin.read()  # until killed
"""


def _start_holder(db_url: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, db_url, NAME, str(TTL)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def holder(db_url):
    proc = _start_holder(db_url)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_a_killed_holders_lease_is_taken_at_once(db_url, holder) -> None:
    h = History(open_database(db_url))
    cur = h.lease(NAME)
    assert cur["holder"] == "holder-a" and cur["live"] and cur["info"]["pid"] == holder.pid
    assert cur["info"]["cluster"] == "test", "the caller's info is kept beside the process's"
    assert not h.acquire_lease(NAME, "holder-b", 30), "a living holder keeps its lease"

    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert not h.lease(NAME)["live"] and h.lease(NAME)["holder_dead"]
    assert h.acquire_lease(NAME, "holder-b", 30), "a dead holder's lease is free at once"
    assert h.lease(NAME)["holder"] == "holder-b" and h.lease(NAME)["live"]


def test_a_zombie_holder_counts_as_dead(db_url, holder) -> None:
    h = History(open_database(db_url))
    os.kill(holder.pid, signal.SIGKILL)
    # not reaped yet: the process is a zombie until its parent (this test) waits for it
    os.waitid(os.P_PID, holder.pid, os.WEXITED | os.WNOWAIT)
    with open(f"/proc/{holder.pid}/stat") as fh:
        assert fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    assert h.acquire_lease(NAME, "holder-b", 30)


def _edit_info(**changes) -> None:
    row = m.Lease.get(m.Lease.name == NAME)
    info = json.loads(row.info)
    info.update(changes)
    m.Lease.update(info=json.dumps(info)).where(m.Lease.name == NAME).execute()


def test_a_holder_on_another_host_or_pid_namespace_is_judged_by_expiry_only(db_url, holder) -> None:
    h = History(open_database(db_url))
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    _edit_info(host="another-host")
    assert h.lease(NAME)["live"] and not h.acquire_lease(NAME, "holder-b", 30)
    _edit_info(host=socket.gethostname(), pidns="pid:[1]")  # this host, another container
    assert h.lease(NAME)["live"] and not h.acquire_lease(NAME, "holder-b", 30)


def test_a_pid_reused_by_a_later_process_counts_as_dead(db_url, holder) -> None:
    h = History(open_database(db_url))
    _edit_info(pid_start="1")  # the live pid now "belongs" to a process started after the holder
    assert h.acquire_lease(NAME, "holder-b", 30)


def test_the_holder_renewing_its_own_lease_is_never_judged(db_url) -> None:
    h = History(open_database(db_url))
    assert h.acquire_lease(NAME, "me", 30) and h.acquire_lease(NAME, "me", 30)
    assert h.lease(NAME)["live"] and not h.lease(NAME)["holder_dead"]
