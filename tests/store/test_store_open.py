"""Opening a history: what is not one, or is damaged, is a one-line StoreError; `--read-only` opens a
history anywhere — in a read-only directory or on read-only media (SQLite's immutable fallback, said
in `read_only_mode`) — and an older schema without migrating it."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from schema_v1 import downgrade_to_v1
from store_objects import pr, tr

from tekton_results_tui.errors import UserError
from tekton_results_tui.store import db as dbmod
from tekton_results_tui.store import models as m
from tekton_results_tui.store.db import SCHEMA_VERSION, StoreError, open_database
from tekton_results_tui.store.history import History, ReadOnlyError, RunUpsert


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and isinstance(exc, UserError)
    return text


def _make_history(path: Path, runs: int = 3) -> None:
    db = open_database(str(path))
    h = History(db)
    for i in range(runs):
        p = pr(f"p{i}", labels={"app": "web"})
        h.apply([RunUpsert(p), RunUpsert(tr(f"p{i}-t", p))])
    db.close()


# --- what is not a history ---------------------------------------------------------------


@pytest.mark.parametrize("read_only", [False, True])
def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path, read_only) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 200)
    with pytest.raises(StoreError) as err:
        open_database(str(path), read_only=read_only)
    assert "is not a SQLite database" in _one_line(err.value) and str(path) in str(err.value)
    assert path.read_text().startswith("these are my notes"), "the file is left as it was"


def test_a_directory_given_as_the_history_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        open_database(str(tmp_path))


def test_a_parent_directory_that_cannot_be_created_is_a_clear_error(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError) as err:
        open_database(str(blocker / "sub" / "history.db"))
    assert "cannot create the directory" in _one_line(err.value) and str(blocker / "sub") in str(err.value)


@pytest.mark.parametrize("value", ["two", "", "1e3", "99999999999999999999999", "２"])
def test_a_garbled_schema_version_is_a_clear_error_on_both_engines(db_url, value) -> None:
    db = open_database(db_url)
    m.MetaKV.update(value=value).where(m.MetaKV.key == "schema_version").execute()
    db.close()
    for read_only in (False, True):
        with pytest.raises(StoreError) as err:
            open_database(db_url, read_only=read_only)
        assert "schema version" in _one_line(err.value) and "not a number" in str(err.value)


# --- read-only anywhere -------------------------------------------------------------------


def _really_read_only(d: Path) -> bool:
    try:
        (d / ".probe").touch()
    except OSError:
        return True
    (d / ".probe").unlink()
    return False


@contextlib.contextmanager
def read_only_directory(d: Path) -> Iterator[str]:
    """Make `d` read-only for this process, even as root: chmod (non-root), chattr +i, or a read-only
    bind mount; yields how. Skips when the machine allows none of them."""
    undo: list[list[str]] = []
    how = ""
    if os.geteuid() != 0:
        d.chmod(0o555)
        how = "chmod 555"
    elif shutil.which("chattr") and subprocess.run(["chattr", "+i", str(d)], capture_output=True).returncode == 0:
        undo.append(["chattr", "-i", str(d)])
        how = "chattr +i"
    elif (shutil.which("mount") and subprocess.run(["mount", "--bind", str(d), str(d)], capture_output=True).returncode == 0):
        undo.append(["umount", str(d)])
        subprocess.run(["mount", "-o", "remount,bind,ro", str(d)], capture_output=True)
        how = "read-only bind mount"
    try:
        if not how or not _really_read_only(d):
            pytest.skip("cannot make a directory read-only here (not root-proof chmod, no chattr, no mount)")
        yield how
    finally:
        for cmd in reversed(undo):
            subprocess.run(cmd, capture_output=True)
        if how == "chmod 555":
            d.chmod(0o755)


def test_a_wal_history_in_a_read_only_directory_opens_immutable(tmp_path) -> None:
    src = tmp_path / "history.db"
    _make_history(src)
    with sqlite3.connect(src) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal", "a WAL history, as the watcher writes it"
    ro = tmp_path / "ro"
    ro.mkdir()
    shutil.copy(src, ro / "history.db")  # without its -shm (and no -wal: it was checkpointed on close)
    with read_only_directory(ro):
        # what failed before: mode=ro cannot create the -shm a WAL reader needs
        with pytest.raises(sqlite3.OperationalError):
            sqlite3.connect(f"file:{ro / 'history.db'}?mode=ro", uri=True).execute("SELECT 1 FROM result").fetchall()
        db = open_database(str(ro / "history.db"), read_only=True)
        try:
            assert db.read_only_mode == "immutable" and db.read_only_note is None
            h = History(db, read_only=True)
            assert h.count_results() == 3 and h.count_records("label:app=web") == 6
            assert [r.display_name for r in h.list_results(order="name").items] == ["p0", "p1", "p2"]
            with pytest.raises(ReadOnlyError):
                h.apply([RunUpsert(pr("new"))])
        finally:
            db.close()
        assert sorted(p.name for p in ro.iterdir()) == ["history.db"], "nothing written beside it"


def test_immutable_says_when_a_wal_file_holds_changes_it_cannot_show(tmp_path, monkeypatch) -> None:
    src = tmp_path / "history.db"
    _make_history(src)
    writer = sqlite3.connect(src)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE result SET update_time = update_time + 1")
    writer.commit()
    ro = tmp_path / "ro"
    ro.mkdir()
    shutil.copy(src, ro / "history.db")
    shutil.copy(src.with_name("history.db-wal"), ro / "history.db-wal")
    writer.close()
    with read_only_directory(ro):
        db = open_database(str(ro / "history.db"), read_only=True)
        try:
            assert db.read_only_mode == "immutable"
            assert db.read_only_note and "history.db-wal" in db.read_only_note and "cannot show" in db.read_only_note
            assert History(db, read_only=True).count_results() == 3
        finally:
            db.close()


def test_the_immutable_fallback_is_taken_when_mode_ro_cannot_read(tmp_path, monkeypatch) -> None:
    """The fallback path on any machine: the mode=ro connection is made to fail as it does without a -shm."""
    path = tmp_path / "history.db"
    _make_history(path)
    real = dbmod._read_only_sqlite
    tried: list[str] = []

    def failing_ro(uri: str):
        tried.append(uri)
        if "immutable=1" in uri:
            return real(uri)
        return real("file:" + str(tmp_path / "no" / "such" / "dir" / "x.db") + "?mode=ro")

    monkeypatch.setattr(dbmod, "_read_only_sqlite", failing_ro)
    db = open_database(str(path), read_only=True)
    try:
        assert db.read_only_mode == "immutable" and len(tried) == 2
        assert History(db, read_only=True).count_results() == 3
    finally:
        db.close()


def test_read_only_in_a_writable_directory_stays_mode_ro(tmp_path) -> None:
    path = tmp_path / "history.db"
    _make_history(path)
    db = open_database(str(path), read_only=True)
    try:
        assert db.read_only_mode == "ro"
    finally:
        db.close()
    assert open_database(str(path)).read_only_mode is None


def test_a_path_with_uri_characters_opens_read_only(tmp_path) -> None:
    path = tmp_path / "odd ?#% name" / "history.db"
    _make_history(path)
    db = open_database(str(path), read_only=True)
    try:
        assert History(db, read_only=True).count_results() == 3
    finally:
        db.close()


def _make_v1(db_url: str) -> None:
    db = open_database(db_url)
    h = History(db)
    p = pr("old", labels={"app": "web"})
    h.apply([RunUpsert(p), RunUpsert(tr("old-t", p))])
    downgrade_to_v1(db)
    db.close()


def test_read_only_opens_a_v1_history_without_migrating_it(db_url) -> None:
    _make_v1(db_url)
    db = open_database(db_url, read_only=True)
    try:
        assert dbmod.schema_version(db) == 1 < SCHEMA_VERSION
        h = History(db, read_only=True)
        assert h.count_results("label:app=web") == 1 and h.count_records() == 2
        rec = h.find_runs("old-t")[0]
        assert h.record_object(rec.id)["metadata"]["name"] == "old-t"
        assert [r.kind for r in h.records_of(rec.result_id)] == ["PipelineRun", "TaskRun"]
        assert "record_result_id" in {i.name for i in db.get_indexes("record")}, "not migrated"
    finally:
        db.close()
    db = open_database(db_url)  # a writable open migrates, as before
    assert dbmod.schema_version(db) == SCHEMA_VERSION
    db.close()
