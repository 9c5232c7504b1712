"""Who writes a history: named leases in the database, taken with a time to live and renewed.

A lease records where its holder runs (host name, PID namespace, pid and the process's start
time). A holder that died without letting go (kill -9, a crash) would keep others out until
its lease expired; when the holder ran on this host, in this PID namespace, and its process is
gone, a zombie, or a newer process reusing its pid, the lease counts as expired at once. A
holder elsewhere is judged by expiry only.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import peewee as pw

from tekton_results_tui.store.db import is_sqlite
from tekton_results_tui.store.models import Lease
from tekton_results_tui.store.sql import dumps, loads_json

PROCESS_KEYS = ("host", "pidns", "pid", "pid_start")  # kept in the lease's info by the store


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state letter, start time in clock ticks since boot) of a process, from /proc/<pid>/stat."""
    text = _read(f"/proc/{pid}/stat")
    if not text or ")" not in text:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after "pid (comm)": comm may hold spaces and parentheses
    if len(fields) < 20:
        return None
    return fields[0], fields[19]


def this_process() -> dict[str, Any]:
    stat = _proc_stat(os.getpid())
    return {"host": socket.gethostname(), "pidns": _pid_namespace(), "pid": os.getpid(),
            "pid_start": stat[1] if stat else None}


def holder_dead(info: dict[str, Any]) -> bool:
    """True only when it is certain: the holder ran here (same host and PID namespace) and its
    process no longer runs (gone, a zombie, or its pid now belongs to a later process)."""
    pid = info.get("pid")
    if type(pid) is not int or pid <= 0 or info.get("host") != socket.gethostname():
        return False
    ns = _pid_namespace()
    if ns is None or info.get("pidns") != ns:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # exists, another user's
    except OSError:
        return False
    stat = _proc_stat(pid)
    if stat is None:
        return False
    state, start = stat
    if state in ("Z", "X"):  # exited, not yet reaped by its parent
        return True
    started = info.get("pid_start")
    return started is not None and start != started


def acquire(db: pw.Database, name: str, holder: str, ttl_s: float, now: float, info: dict | None) -> bool:
    """Take or renew the lease `name` for `holder` if it is free, expired, held by a dead process
    of this host, or already ours."""
    info = {**(info or {}), **this_process()}
    with db.write_txn():  # type: ignore[attr-defined]
        q = Lease.select().where(Lease.name == name)
        if not is_sqlite(db):
            q = q.for_update()
        cur = q.first()
        if cur is None:
            Lease.insert(name=name, holder=holder, acquired=now, renewed=now, expires=now + ttl_s,
                         info=dumps(info)).execute()
            return True
        if cur.holder != holder and cur.expires > now and not holder_dead(loads_json(cur.info, {})):
            return False
        acquired = cur.acquired if cur.holder == holder else now
        Lease.update(holder=holder, acquired=acquired, renewed=now, expires=now + ttl_s,
                     info=dumps(info)).where(Lease.name == name).execute()
        return True


def release(db: pw.Database, name: str, holder: str) -> None:
    with db.write_txn():  # type: ignore[attr-defined]
        Lease.delete().where((Lease.name == name) & (Lease.holder == holder)).execute()


def read(name: str, now: float) -> dict | None:
    """The lease, or None; `live` says whether its holder still counts (not expired, not dead)."""
    cur = Lease.get_or_none(Lease.name == name)
    if cur is None:
        return None
    info = loads_json(cur.info, {})
    dead = holder_dead(info)
    return {"holder": cur.holder, "acquired": cur.acquired, "renewed": cur.renewed, "expires": cur.expires,
            "live": cur.expires > now and not dead, "holder_dead": dead, "info": info}
