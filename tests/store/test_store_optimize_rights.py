"""PostgreSQL: a writer whose role does not own the tables (granted DML only) can still optimize().

CREATE STATISTICS checks ownership before IF NOT EXISTS, so such a writer's batch failed after it had
committed, whether or not the owner had created the statistics already."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from store_objects import pr
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History, RunUpsert

PG_BASE = os.environ.get("TEKTON_RESULTS_TUI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")  # as tests/conftest.py


def _admin(sql: str) -> None:
    conn = psycopg2.connect(PG_BASE, connect_timeout=3)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


@contextmanager
def _table_writer(pg_url: str, create_on_database: bool) -> Iterator[History]:
    """A History opened by a new role granted the schema's tables only (and CREATE on the database or not)."""
    schema = pg_url.rsplit("schema=", 1)[1]
    role = "w_" + uuid.uuid4().hex[:12]
    dbname = urlsplit(PG_BASE).path.lstrip("/")
    rights = "CREATE, CONNECT" if create_on_database else "CONNECT"
    _admin(f'CREATE ROLE "{role}" LOGIN; GRANT {rights} ON DATABASE "{dbname}" TO "{role}"; '
           f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"; '
           f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"; '
           f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"')
    try:
        u = urlsplit(pg_url)
        writer = History(open_database(urlunsplit(u._replace(netloc=f"{role}@{u.hostname}:{u.port or 5432}"))))
        try:
            yield writer
        finally:
            writer.db.close()
    finally:
        _admin(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')


@pytest.mark.postgres
@pytest.mark.parametrize("owner_optimized_first", [True, False])
def test_a_writer_that_does_not_own_the_tables_optimizes(pg_url: str, owner_optimized_first: bool) -> None:
    owner = History(open_database(pg_url))
    owner.apply([RunUpsert(pr(f"run-{i}", labels={"team": "web"})) for i in range(5)])
    if owner_optimized_first:
        owner.optimize()
    owner.db.close()
    with _table_writer(pg_url, create_on_database=True) as writer:
        writer.apply([RunUpsert(pr("run-new", labels={"team": "web"}))])
        writer.optimize()  # raised "must be owner of table label"
        assert writer.count_results("label:team=web") == 6


@pytest.mark.postgres
def test_a_writer_without_create_on_the_database_opens_an_existing_schema(pg_url: str) -> None:
    """A role granted only the tables of an existing schema (no CREATE on the database) opens and writes it:
    CREATE SCHEMA IF NOT EXISTS checks that right before it looks whether the schema exists."""
    owner = History(open_database(pg_url))
    owner.apply([RunUpsert(pr("run-0"))])
    owner.db.close()
    with _table_writer(pg_url, create_on_database=False) as writer:
        writer.apply([RunUpsert(pr("run-new"))])
        assert writer.size()[0] == 2


@pytest.mark.postgres
def test_optimize_rebuilds_statistics_days_serialized_with_other_writers(pg_url: str) -> None:
    """optimize() rebuilds dirty stat_day days as apply does, under the change sequence's row lock: without it,
    a rebuild of the same day by another process's batch left both copies of the day's rows."""
    import threading

    import psycopg2

    from tekton_results_tui.store.db import open_database as _open

    h = History(_open(pg_url))
    h.apply([RunUpsert(pr(f"run-{i}")) for i in range(3)])
    schema = pg_url.rsplit("schema=", 1)[1]
    other = psycopg2.connect(PG_BASE, connect_timeout=3, options=f"-csearch_path={schema}")
    cur = other.cursor()  # another writer's open batch: it holds the sequence row
    cur.execute("SELECT value FROM meta WHERE key = 'change_seq' FOR UPDATE")
    cur.execute("SELECT pg_current_xact_id()::text")
    xid = cur.fetchone()[0]
    done = threading.Event()
    t = threading.Thread(target=lambda: (h.optimize(), done.set()), daemon=True)
    t.start()
    watch = psycopg2.connect(PG_BASE, connect_timeout=3)
    watch.autocommit = True
    waiting = False
    try:
        for _ in range(200):  # until optimize's backend waits on that row lock (or it has finished without waiting)
            with watch.cursor() as c:
                c.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted "
                          "AND transactionid::text = %s", (xid,))
                waiting = c.fetchone()[0] > 0
            if waiting or done.wait(0.05):
                break
        assert waiting and not done.is_set(), "optimize() rebuilt statistics days without the writers' lock"
    finally:
        other.rollback()
        other.close()
        watch.close()
    assert done.wait(60)
    t.join(5)
    h.db.close()


@pytest.mark.postgres
def test_optimize_gives_the_planner_statistics_of_every_writer_kept_table(pg_url: str) -> None:
    """optimize() ANALYZEs each table readers plan over, stat_rebuilt and summary_day included (without it the planner
    guessed ~70 rows for it whatever it held)."""
    h = History(open_database(pg_url))
    h.apply([RunUpsert(pr(f"run-{i}")) for i in range(3)])
    h.optimize()
    schema = pg_url.rsplit("schema=", 1)[1]
    analyzed = {name for (name,) in h.db.execute_sql(
        "SELECT relname FROM pg_stat_user_tables WHERE schemaname = %s AND last_analyze IS NOT NULL", (schema,))}
    h.db.close()
    assert {"result", "record", "label", "run_stat", "stat_day", "stat_rebuilt", "summary_day"} <= analyzed
