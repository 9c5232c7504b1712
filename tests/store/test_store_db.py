"""Opening databases: read-only really is read-only, schema versions, clear errors for bad URLs."""

from __future__ import annotations

import peewee as pw
import pytest
from store_objects import pr

from tekton_results_tui.store import db as dbmod
from tekton_results_tui.store import models as m
from tekton_results_tui.store.db import SCHEMA_VERSION, StoreError, open_database, parse_db_url
from tekton_results_tui.store.history import History, ReadOnlyError, RunUpsert


def _seed(url: str) -> None:
    db = open_database(url)
    History(db).apply([RunUpsert(pr("p"))])
    db.close()


def test_read_only_open_cannot_write(db_url: str) -> None:
    _seed(db_url)
    db = open_database(db_url, read_only=True)
    try:
        h = History(db, read_only=True)
        assert h.size() == (1, 1)
        assert h.list_results().items[0].display_name == "p"
        with pytest.raises(ReadOnlyError):
            h.apply([RunUpsert(pr("q"))])
        with pytest.raises(ReadOnlyError):
            h.set_value("k", "v")
        with pytest.raises(ReadOnlyError):
            h.prune(2**40)
        # beneath the API: the connection itself refuses (mode=ro / read-only transactions)
        with pytest.raises(pw.DatabaseError, match="(?i)read.?only"):
            db.execute_sql("UPDATE result SET display_name = 'x'")
        with pytest.raises(pw.DatabaseError, match="(?i)read.?only"):
            db.execute_sql("INSERT INTO meta (key, value) VALUES ('x', 'y')")
        # a History built over the read-only connection without the flag still cannot write
        with pytest.raises(pw.DatabaseError):
            History(db).apply([RunUpsert(pr("r"))])
    finally:
        db.close()
    db = open_database(db_url)
    assert History(db).size() == (1, 1)
    db.close()


def test_read_only_missing_sqlite_file_is_a_clear_error(tmp_path) -> None:
    missing = tmp_path / "nope" / "history.db"
    with pytest.raises(StoreError, match="no history at .*nothing to open read-only"):
        open_database(f"sqlite:///{missing}", read_only=True)
    assert not missing.parent.exists()  # and nothing was created


def test_read_only_on_an_empty_database_says_so(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    with pytest.raises(StoreError, match="holds no tekton-results-tui history"):
        open_database(f"sqlite:///{path}", read_only=True)


def test_newer_schema_is_a_clear_error(db_url: str) -> None:
    db = open_database(db_url)
    m.MetaKV.update(value=str(SCHEMA_VERSION + 1)).where(m.MetaKV.key == "schema_version").execute()
    db.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this program knows"):
        open_database(db_url)
    with pytest.raises(StoreError, match="newer than this program knows"):
        open_database(db_url, read_only=True)


def test_migrations_are_recorded_and_idempotent(db_url: str) -> None:
    db = open_database(db_url)
    assert dbmod.schema_version(db) == SCHEMA_VERSION
    assert History(db).current_seq() == 0
    History(db).apply([RunUpsert(pr("p"))])
    db.close()
    db = open_database(db_url)  # re-opening migrates nothing and keeps data and the sequence
    assert dbmod.schema_version(db) == SCHEMA_VERSION
    assert History(db).size() == (1, 1) and History(db).current_seq() == 1
    db.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty database URL"),
        ("mysql://u@h/db", "unsupported database URL scheme 'mysql'"),
        ("sqlite://relative.db", "bad SQLite URL"),
        ("sqlite:///:memory:", "in-memory database cannot be shared"),
        ("postgresql://u@h:5432/", "no database name"),
        ("postgresql://u@h:port/db", "the port is not a number"),
        ("postgresql://u@h/db?schema=a;drop", "is not a plain identifier"),
    ],
)
def test_bad_urls_are_clear_errors(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        parse_db_url(url)
    with pytest.raises(StoreError, match=message):
        open_database(url)


def test_password_is_not_shown_in_errors() -> None:
    with pytest.raises(StoreError) as err:
        open_database("postgresql://bob:s3cret@127.0.0.1:1/db")
    assert "s3cret" not in str(err.value)
    assert "cannot" in str(err.value)
    with pytest.raises(StoreError) as err:
        open_database("postgresql://bob:s3cret@127.0.0.1:1/db?schema=x")
    assert "s3cret" not in str(err.value)


def test_parse_urls() -> None:
    assert parse_db_url("sqlite:////abs/h.db").path == "/abs/h.db"
    assert parse_db_url("sqlite:///rel/h.db").path == "rel/h.db"
    assert parse_db_url("/plain/path.db").path == "/plain/path.db"
    u = parse_db_url("postgresql://me:pw@db.example:6543/hist?schema=team&sslmode=require")
    assert u.engine == "postgresql" and u.schema == "team"
    assert u.dsn == {"database": "hist", "host": "db.example", "port": 6543, "user": "me", "password": "pw",
                     "sslmode": "require"}
