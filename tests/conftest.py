"""Shared fixtures: a fresh SQLite file or a fresh PostgreSQL schema per test.

PostgreSQL tests skip with a visible reason when no server answers; with
TEKTON_RESULTS_TUI_REQUIRE_PG=1 (set by .ci/run) an unreachable server fails them instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_BASE = os.environ.get("TEKTON_RESULTS_TUI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("TEKTON_RESULTS_TUI_REQUIRE_PG") == "1"


def _pg_reachable() -> str | None:
    """None when reachable, else the reason."""
    try:
        import psycopg2

        conn = psycopg2.connect(PG_BASE, connect_timeout=3)
        conn.close()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure is a reason to skip
        return f"PostgreSQL not reachable at {PG_BASE}: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}"


_PG_REASON: list[str | None] = []


def pg_unavailable_reason() -> str | None:
    if not _PG_REASON:
        _PG_REASON.append(_pg_reachable())
    return _PG_REASON[0]


def require_pg() -> None:
    reason = pg_unavailable_reason()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"{reason} (TEKTON_RESULTS_TUI_REQUIRE_PG=1: PostgreSQL tests must run)")
        pytest.skip(reason)


def _drop_schema(schema: str) -> None:
    import psycopg2

    conn = psycopg2.connect(PG_BASE, connect_timeout=3)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    conn.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL schema, dropped afterwards."""
    require_pg()
    schema = "t_" + uuid.uuid4().hex[:12]
    sep = "&" if "?" in PG_BASE else "?"
    yield f"{PG_BASE}{sep}schema={schema}"
    _drop_schema(schema)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return "sqlite:///" + str(tmp_path / "history.db")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> Iterator[str]:
    """Both engines: the same store tests run on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path / "history.db")
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def history(db_url):
    """A History on a fresh database of either engine."""
    from tekton_results_tui.store.db import open_database
    from tekton_results_tui.store.history import History

    db = open_database(db_url)
    yield History(db)
    db.close()
