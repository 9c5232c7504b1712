"""`import` of JSON dumps read one object at a time, in several transactions per file."""

from __future__ import annotations

import json

from clikit import Cli

from tekton_results_tui.commands import dump_stream, import_cmd
from tekton_results_tui.commands.dumpfile import Problem


def _run(name: str, uid: str, rv: int = 3, kind: str = "TaskRun", **extra: object) -> dict:
    return {"apiVersion": "tekton.dev/v1", "kind": kind,
            "metadata": {"name": name, "namespace": "ci", "uid": uid, "resourceVersion": str(rv)},
            "status": {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}],
                       "startTime": "2026-01-02T03:04:05Z", "completionTime": "2026-01-02T03:05:05Z"}, **extra}


def _compact(o: dict) -> str:
    return json.dumps(o, separators=(",", ":"))


def test_a_one_line_list_is_stored_from_its_own_text(cli: Cli, tmp_path) -> None:
    objs = [_run(f"r{i}", f"u{i}", note="é \u2603") for i in range(5)]
    p = tmp_path / "dump.json"
    p.write_text('{"apiVersion":"v1","items":[' + ",".join(_compact(o) for o in objs) + '],"kind":"List"}')
    rc, out, err = cli("import", str(p))
    assert (rc, out.strip(), err) == (0, f"{p}: 5 runs stored (5 new)", "")
    rec = cli.json("records", "name:r3")["records"][0]
    assert rec["data"] == objs[3]


def test_kubectl_indented_json_is_stored_compact(cli: Cli, tmp_path) -> None:
    from tekton_results_tui.store.db import open_database
    from tekton_results_tui.store.history import History

    objs = [_run(f"r{i}", f"u{i}") for i in range(3)]
    p = tmp_path / "dump.json"
    p.write_text(json.dumps({"apiVersion": "v1", "items": objs, "kind": "List", "metadata": {}}, indent=4))
    assert cli("import", str(p))[:2] == (0, f"{p}: 3 runs stored (3 new)\n")
    h = History(open_database(cli.url, read_only=True), read_only=True)
    raw = h.record_data(h.get_record(uid="u1").id)
    assert "\n" not in raw and json.loads(raw) == objs[1]
    h.db.close()


def test_bad_items_are_skipped_by_name_and_a_broken_tail_ends_the_file(cli: Cli, tmp_path) -> None:
    good = [_compact(_run("a", "ua")), _compact(_run("b", "ub"))]
    nan = _compact(_run("nan", "un")).replace('"resourceVersion":"3"', '"resourceVersion":"3","x":NaN')
    cm = _compact({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ci"}})
    p = tmp_path / "dump.json"
    p.write_text('{"items": [' + ",\n".join([good[0], nan, cm, good[1]]) + ', {"kind": "TaskRun", oops}]}')
    rc, out, err = cli("import", str(p))
    assert rc == 1
    assert out.strip() == f"{p}: 2 runs stored (2 new), 3 skipped"
    lines = err.strip().splitlines()
    assert any("TaskRun ci/nan: not representable as JSON" in x for x in lines), err
    assert any("ConfigMap ci/cm" in x and "not PipelineRun or TaskRun" in x for x in lines), err
    assert any("the JSON document (line 4" in x and "malformed JSON" in x and "rest of the file" in x
               for x in lines), err
    assert {r["display_name"] for r in cli.json("results")["results"]} == {"a", "b"}


def test_broken_json_before_any_object_is_read_as_yaml_as_before(cli: Cli, tmp_path) -> None:
    p = tmp_path / "dump.json"
    p.write_text("{kind: TaskRun, apiVersion: tekton.dev/v1, metadata: {name: y, namespace: ci, uid: uy}}\n")
    rc, out, err = cli("import", str(p))
    assert (rc, out.strip()) == (0, f"{p}: 1 runs stored (1 new)"), err


def test_items_before_a_non_list_kind_are_reported(tmp_path) -> None:
    text = '{"items": [' + _compact(_run("a", "ua")) + '], "kind": "PipelineRun"}'
    got = list(dump_stream.read_runs(text))
    assert isinstance(got[0], tuple) and got[0][0]["metadata"]["name"] == "a"
    assert isinstance(got[1], Problem) and "is not a List" in got[1].why
    assert [type(x) for x in dump_stream.read_runs("[" + _compact(_run("a", "ua")) + ", 7]")] == [tuple, Problem]


def test_reading_is_lazy_one_object_at_a_time() -> None:
    """The first run comes out before the parser has looked at the rest of the text."""
    text = '{"items": [' + _compact(_run("a", "ua")) + ", " + "x" * 1000 + "]}"
    it = dump_stream.read_runs(text)
    first = next(it)
    assert first[0]["metadata"]["uid"] == "ua"
    assert isinstance(next(it), Problem)


def test_several_transactions_per_file_count_and_reimport_like_one(cli: Cli, tmp_path, monkeypatch) -> None:
    from tekton_results_tui.store.db import open_database
    from tekton_results_tui.store.history import History

    monkeypatch.setattr(import_cmd, "IMPORT_BATCH", 3)
    monkeypatch.setattr(import_cmd.import_file, "__defaults__", ("", 3))
    objs = [_run(f"r{i}", f"u{i}", rv=10 + i) for i in range(8)]
    objs.append(_run("r0", "u0", rv=50))  # a newer copy of the first, in a later transaction
    p = tmp_path / "dump.json"
    p.write_text(json.dumps({"kind": "List", "items": objs}))
    rc, out, _ = cli("import", str(p))
    assert (rc, out.strip()) == (0, f"{p}: 9 runs stored (8 new, 1 updated)")
    h = History(open_database(cli.url))
    seq = h.current_seq()
    assert seq == 3  # three transactions, each one change-sequence step
    assert h.get_record(uid="u0").rv == 50
    h.db.close()
    rc, out, _ = cli("import", str(p))
    assert (rc, out.strip()) == (0, f"{p}: 9 runs stored (9 unchanged)")
    h = History(open_database(cli.url))
    assert h.current_seq() == seq
    h.db.close()
