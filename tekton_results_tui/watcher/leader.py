"""Leader election among `--headless` replicas that share one PostgreSQL and one cluster.

Why a PostgreSQL advisory lock and not a Kubernetes Lease: what must be exclusive is
the writer's access to the database, and the lock lives in exactly that database. A
session-level advisory lock dies with its session — a SIGKILLed leader's socket closes
and the lock is free at once, with no expiry to wait out and no clocks to compare
(a Lease trusts renew timestamps across nodes). A Lease would also need
coordination.k8s.io RBAC and a renew loop of our own. What the lock cannot see — a
leader whose host vanished without closing its socket — TCP keepalives on both ends of
the dedicated connection bound to about 11 s.

On SQLite there is nothing to elect: one file has one machine, and the store's lease
row (``History.acquire_lease``) already keeps a second watcher off it, so the elector
is a no-op that is always leader.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from tekton_results_tui.store.db import DbUrl, first_line, parse_db_url
from tekton_results_tui.watcher.backoff import Backoff
from tekton_results_tui.watcher.status import OFF, STANDBY, WatcherStatus

log = logging.getLogger(__name__)

POLL_S = 2.0  # a standby retries the lock this often: takeover <= POLL_S after the lock frees
CHECK_S = 2.0  # the leader checks its own session this often: how long it may write unaware it lost
RECONNECT_MAX_S = 10.0

# libpq (client side) and server-side keepalives: either end notices a dead peer in
# about idle + interval * count = 5 + 2 * 3 = 11 s, so the lock of a vanished host
# frees well within the 15 s takeover budget. statement_timeout bounds our tiny queries.
_KEEPALIVE_CONNECT = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
                      "tcp_user_timeout": 10_000}
_SESSION_OPTIONS = ("-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3 "
                    "-c statement_timeout=5000")


def lock_key(cluster: str, schema: str | None = None) -> int:
    """A stable signed 63-bit key for the writer lock of `cluster` in history `schema`.

    Advisory locks are per database, so the schema is part of the key: two histories in
    two schemas of one database do not block each other's writers.
    """
    digest = hashlib.sha256(f"tekton-results-tui/writer\0{schema or ''}\0{cluster}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


class LeaderElector:
    """Elect one writer per (database, schema, cluster); call back on gaining and losing it.

    `on_elected()` and `on_lost()` run on the elector's thread. `on_lost` must stop the
    writer before it returns: `stop()` calls it (when leading) before the lock is
    released, so no other replica starts writing while this one still flushes.
    """

    def __init__(
        self,
        db_url: str,
        cluster: str,
        on_elected: Callable[[], Any],
        on_lost: Callable[[], Any],
        *,
        poll_s: float = POLL_S,
        check_s: float = CHECK_S,
        identity: str | None = None,
    ) -> None:
        self._url: DbUrl = parse_db_url(db_url)
        self.cluster = cluster
        self.on_elected = on_elected
        self.on_lost = on_lost
        self.poll_s = poll_s
        self.check_s = check_s
        self.identity = identity or "tekton-results-tui"
        self.key = lock_key(cluster, self._url.schema)
        self.enabled = self._url.engine == "postgresql"  # False: no election (SQLite), always leader
        self.last_error: str | None = None
        self.attempts = 0  # try-lock round trips so far (operators' and tests' view of a standby's progress)
        self._leader = False
        self._conn: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # guards _leader transitions against stop()

    @property
    def is_leader(self) -> bool:
        return self._leader

    def start(self) -> None:
        """Begin competing. On SQLite: become leader at once, in the caller's thread."""
        if not self.enabled:
            self.on_elected()  # may raise: the caller's start fails, and this is not a leader
            self._leader = True
            return
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"leader-{self.cluster}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop competing: if leading, call `on_lost` first, then release the lock."""
        self._stop.set()
        if not self.enabled:
            if self._leader:
                self._leader = False
                self.on_lost()
            return
        if self._thread is not None and self._thread is not threading.current_thread():  # on_lost may call stop()
            self._thread.join(timeout)
            self._thread = None
        self._step_down()  # in case the thread was stuck and did not do it
        self._close()

    # --- the election loop ---------------------------------------------------------

    def _run(self) -> None:
        reconnect = Backoff(0.5, RECONNECT_MAX_S)  # the database is away
        sit_out = Backoff(0.5, RECONNECT_MAX_S * 3)  # elected but the writer would not start
        while not self._stop.is_set():
            try:
                if self._conn is None:
                    self._connect()
                    reconnect.reset()
                if self._leader:
                    if not self._still_holding():
                        raise _LostLock("the lock is no longer held by this session")
                    wait = self.check_s
                elif self._try_lock():
                    if self._become_leader():
                        wait = self.check_s
                        sit_out.reset()
                    else:  # could not start: sit out a while so a healthy replica wins the lock
                        wait = max(2 * self.poll_s, sit_out.next())
                else:
                    wait = self.poll_s
            except Exception as exc:  # noqa: BLE001 - any DB failure: step down, reconnect, compete again
                self.last_error = first_line(exc)
                if self._leader:
                    log.warning("leader election: lost the writer lock for cluster %r: %s", self.cluster, self.last_error)
                else:
                    log.info("leader election: database unavailable: %s", self.last_error)
                self._step_down()
                self._close()
                wait = reconnect.next()
            self._stop.wait(wait)
        self._step_down()
        self._close()

    def _become_leader(self) -> bool:
        with self._lock:
            if self._stop.is_set():
                return True
            self._leader = True
        log.info("leader election: %s is the writer for cluster %r", self.identity, self.cluster)
        try:
            self.on_elected()
        except Exception as exc:  # noqa: BLE001 - a leader that cannot start must let another try
            log.error("leader election: starting the writer failed, releasing the lock: %s", first_line(exc))
            self.last_error = first_line(exc)
            self._step_down()
            self._close()
            return False
        return True

    def _step_down(self) -> None:
        with self._lock:
            was, self._leader = self._leader, False
        if was:
            try:
                self.on_lost()
            except Exception as exc:  # noqa: BLE001 - stepping down must finish
                log.error("leader election: stopping the writer failed: %s", first_line(exc))

    # --- the dedicated connection -----------------------------------------------------

    def _connect(self) -> None:
        import psycopg2  # local: only PostgreSQL users need it

        dsn = dict(self._url.dsn or {})
        dbname = dsn.pop("database")
        options = " ".join(o for o in (dsn.pop("options", ""), _SESSION_OPTIONS) if o)
        dsn.setdefault("connect_timeout", 5)
        for k, v in _KEEPALIVE_CONNECT.items():
            dsn.setdefault(k, v)
        dsn.setdefault("application_name", f"{self.identity} leader-election"[:63])
        conn = psycopg2.connect(dbname=dbname, options=options, **dsn)
        conn.autocommit = True  # a session lock, not a transaction one: no transaction left open
        self._conn = conn

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()  # closing the session releases its advisory locks
            except Exception:  # noqa: BLE001 - already broken is fine
                pass

    def _try_lock(self) -> bool:
        with self._conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
            got = bool(cur.fetchone()[0])
        self.attempts += 1
        return got

    def _still_holding(self) -> bool:
        """A round trip on our own session that also proves it still holds the lock."""
        with self._conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND granted AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1",
                (self.key >> 32, self.key & 0xFFFFFFFF),
            )
            return cur.fetchone()[0] > 0

    def backend_pid(self) -> int | None:
        """The server pid of the dedicated session (for operators and tests)."""
        conn = self._conn
        return conn.get_backend_pid() if conn is not None else None


def with_leader(status: WatcherStatus, elector: LeaderElector) -> WatcherStatus:
    """The status as metrics and logs should show it: `leader` set, and a replica that is
    standing by reported as STANDBY (not OFF) with the reason, so its probes pass."""
    if not elector.enabled:
        return replace(status, leader=None)
    if elector.is_leader:
        return replace(status, leader=True)
    if status.state == OFF:
        reason = f"another replica is the writer for cluster {elector.cluster!r}"
        if elector.last_error:
            reason = f"waiting for the database: {elector.last_error}"
        return replace(status, leader=False, state=STANDBY, reason=reason)
    return replace(status, leader=False)


class Startable(Protocol):
    def start(self) -> Any: ...
    def stop(self) -> Any: ...
    def status(self) -> WatcherStatus: ...


GAUGE_COUNTS = frozenset({"aux_pending", "log_index_pending"})  # counts keys that are levels, not totals: never carried over


def add_counts(into: dict, counts: dict) -> dict:
    """Sum numeric totals (and per-kind dicts) of `counts` into `into`; levels are left out."""
    for k, v in counts.items():
        if k in GAUGE_COUNTS:
            continue
        if isinstance(v, dict):
            sub = into.setdefault(k, {})
            if isinstance(sub, dict):
                for kind, n in v.items():
                    if isinstance(n, (int, float)) and not isinstance(n, bool):
                        sub[kind] = sub.get(kind, 0) + n
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            cur = into.get(k, 0)
            into[k] = (cur if isinstance(cur, (int, float)) else 0) + v
    return into


class HaWatcher:
    """A watcher service that runs only while this replica is the elected writer.

    Each election builds a fresh service with `make_service()` and starts it; losing the
    lock (or `stop()`) stops it before the lock is released. `status()` is what metrics
    and logs show: the running service's snapshot, or a STANDBY one while another
    replica writes. On SQLite it simply runs the service (no election). Counts add up
    over all the services this process ran, so exported counters never go backwards
    when the database drops this replica's session and it is elected again.
    """

    def __init__(self, db_url: str, cluster: str, make_service: Callable[[], Startable], **elector_kw: Any) -> None:
        self.make_service = make_service
        self.cluster = cluster
        self.service: Startable | None = None
        self._last: WatcherStatus | None = None
        self._carried: dict = {}  # counts of the services that ran before the current one
        self._mu = threading.Lock()
        self._stopped = False
        self.elector = LeaderElector(db_url, cluster, self._elected, self._lost, **elector_kw)

    def start(self) -> None:
        self._stopped = False
        self.elector.start()

    def stop(self) -> None:
        self._stopped = True
        self.elector.stop()

    def status(self) -> WatcherStatus:
        with self._mu:
            svc = self.service
            carried = {k: (dict(v) if isinstance(v, dict) else v) for k, v in self._carried.items()}
        if svc is not None:
            st = svc.status()
            now = st.counts or {}
            merged = add_counts(carried, now)
            merged.update({k: now[k] for k in GAUGE_COUNTS if k in now})  # levels: the running service's own
            st = replace(st, counts=merged)
        else:
            base = self._last or WatcherStatus(cluster=self.cluster)
            st = replace(base, state=OFF, connected=False, backlog=0, reason=None, counts=carried)
            if self._stopped:
                return replace(st, reason="stopped", leader=None if not self.elector.enabled else False)
        return with_leader(st, self.elector)

    def _elected(self) -> None:
        svc = self.make_service()
        svc.start()  # raising here makes the elector release the lock for another replica
        with self._mu:
            self.service = svc

    def _lost(self) -> None:
        with self._mu:
            svc = self.service
        if svc is None:
            return
        try:
            svc.stop()  # still shown while it flushes, so the exported counts never dip
        finally:
            try:
                last = svc.status()  # after the final flush: its counts are complete
            except Exception:  # noqa: BLE001
                last = None
            with self._mu:
                if last is not None:
                    add_counts(self._carried, last.counts or {})
                    self._last = last
                self.service = None


class _LostLock(Exception):
    pass
