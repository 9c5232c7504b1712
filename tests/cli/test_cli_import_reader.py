"""`import` through the reader process (big dumps, commands/import_worker.py): the same outcome as in-process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from clikit import Cli, load_make_dump, NOW

from tekton_results_tui.commands import import_cmd
from tekton_results_tui.commands.import_worker import DumpReaderError, ReaderProcess


def _messy_dump(generated: dict) -> str:
    """The generated dump plus what must be skipped or warned about, as `kubectl -o json` indents it."""
    items = list(generated["items"])
    broken = json.loads(json.dumps(items[0]))
    broken["metadata"].update(name="no-uid", uid="")
    warned = json.loads(json.dumps(items[1]))
    warned["metadata"].update(name="bad-annotation", uid="uid-bad-annotation")
    warned["metadata"].setdefault("annotations", {})["results.tekton.dev/resultAnnotations"] = "{not json"
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ci"}}
    return json.dumps({"apiVersion": "v1", "items": [*items, broken, warned, cm], "kind": "List"}, indent=4)


def _store_both_ways(tmp_path: Path, capsys, monkeypatch, argv_tail: list[str], stdin: str | None = None):
    outs = []
    for name, threshold in (("in-process", 1 << 60), ("reader", 0)):
        monkeypatch.setattr(import_cmd, "READER_PROCESS_MIN_BYTES", threshold)
        if stdin is not None:
            import io

            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        cli = Cli(f"sqlite:///{tmp_path / name}.db", capsys)
        rc, out, err = cli("import", *argv_tail)
        results = cli.json("results", "--limit", "1000")["results"]
        records = cli.json("records", "--limit", "1000")["records"]
        for r in results + records:  # ids are the same; times of writing (and ETAs, from the clock) differ
            r.pop("update_time", None), r.pop("create_time", None), r.pop("eta", None)
        outs.append((rc, out, sorted(err.splitlines()), results, records))
    return outs


def test_a_big_dump_through_the_reader_stores_and_reports_what_in_process_does(tmp_path, capsys, monkeypatch) -> None:
    generated, _ = load_make_dump().build_dump(runs=30, seed=5, now=NOW)
    p = tmp_path / "dump.json"
    p.write_text(_messy_dump(generated))
    inproc, reader = _store_both_ways(tmp_path, capsys, monkeypatch, [str(p)])
    assert reader == inproc
    rc, out, err, results, _ = reader
    assert rc == 1 and "2 skipped" in out and len(results) >= 30
    assert any("no-uid" in e and "uid missing" in e for e in err), err
    assert any("ConfigMap ci/cm" in e for e in err) and any("resultAnnotations" in e and "warning" in e for e in err)


def test_stdin_through_the_reader(tmp_path, capsys, monkeypatch) -> None:
    generated, _ = load_make_dump().build_dump(runs=5, seed=3, now=NOW)
    inproc, reader = _store_both_ways(tmp_path, capsys, monkeypatch, ["-"], stdin=json.dumps(generated))
    assert reader == inproc and reader[0] == 0 and reader[1].startswith("stdin: ")


def test_an_unreadable_dump_is_named_by_the_reader(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(import_cmd, "READER_PROCESS_MIN_BYTES", 0)
    p = tmp_path / "latin1.json"
    p.write_bytes(b'{"items": ["\xe9"]}')
    rc, out, err = Cli(f"sqlite:///{tmp_path / 'h.db'}", capsys)("import", str(p))
    assert rc == 2 and out == ""
    assert err.startswith(f"tekton-results-tui: error: {p}: cannot read: ") and "utf-8" in err and "Traceback" not in err


def test_a_reader_that_dies_is_an_error_not_a_short_import(tmp_path) -> None:
    fifo = tmp_path / "never-written"
    os.mkfifo(fifo)  # the child blocks opening it: alive, with nothing sent yet
    reader = ReaderProcess(str(fifo))
    try:
        reader._proc.kill()
        with pytest.raises(DumpReaderError, match="ended unexpectedly"):
            list(reader)
    finally:
        reader.close()
    assert reader._proc.poll() is not None


def test_without_an_executable_to_start_a_reader_big_dumps_are_read_in_process(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(import_cmd, "READER_PROCESS_MIN_BYTES", 0)
    monkeypatch.setattr("sys.executable", "")

    def no_reader(*_a: object) -> None:
        raise AssertionError("a reader process was started")

    monkeypatch.setattr(import_cmd, "ReaderProcess", no_reader)
    generated, _ = load_make_dump().build_dump(runs=3, seed=2, now=NOW)
    p = tmp_path / "dump.json"
    p.write_text(json.dumps(generated))
    rc, out, err = Cli(f"sqlite:///{tmp_path / 'h.db'}", capsys)("import", str(p))
    assert rc == 0 and out.startswith(f"{p}: ") and "new" in out, err
