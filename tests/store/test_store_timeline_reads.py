"""The Timeline tab's read of a Result (store/timeline_reads.py), on both engines: every record, the
objects of its runs as record_object gives them, none for its documents."""

from __future__ import annotations

from store_objects import pr, tr

from tekton_results_tui.store.history import Events, History, Logs, RunUpsert, StepLogData
from tekton_results_tui.store.timeline_reads import parse_object, result_records


def test_a_results_records_with_its_runs_objects(history: History) -> None:
    p = pr("big")
    trs = [tr(f"big-t{k}", p, pipeline_task=f"t{k}") for k in range(3)]
    trs[1]["status"]["note"] = "ünïcode 🚀 and a \u2028 line separator"
    history.apply([RunUpsert(p), *[RunUpsert(t) for t in trs],
                   Logs(trs[0], [StepLogData("build", "step-build", b"compiling\n")]),
                   Events(p, [{"metadata": {"name": "e1", "resourceVersion": "8"}, "reason": "Pulled", "message": "m"}])])
    other = pr("other")
    history.apply([RunUpsert(other)])
    res = history.get_record(uid=p["metadata"]["uid"])
    assert res is not None
    expected = history.records_of(res.result_id)
    got = result_records(res.result_id)
    assert [r.id for r in got] == sorted(r.id for r in expected)  # every record of the Result, in id order
    by_id = {r.id: r for r in expected}
    for r in got:
        row = by_id[r.id]
        assert (r.kind, r.uid, r.run_uid, r.top_level) == (row.kind, row.uid, row.run_uid, row.top_level)
        if r.kind in ("PipelineRun", "TaskRun"):
            assert r.obj == history.record_object(r.id)
        else:
            assert r.obj is None  # a Log or EventList: not read
    assert sorted(r.kind for r in got) == ["EventList", "Log", "PipelineRun", "TaskRun", "TaskRun", "TaskRun"]
    assert next(r for r in got if r.kind == "PipelineRun").top_level
    assert result_records(10**9) == []


def test_what_orjson_refuses_is_read_by_json() -> None:
    assert parse_object('{"a": NaN, "b": 1}')["b"] == 1  # the store writes NaN (allow_nan)
    # orjson reads an integer past 64 bits as a float (said in parse_object: a timeline reads text and exit codes)
    assert parse_object('{"big": 123456789012345678901234567890}')["big"] == float(123456789012345678901234567890)
    assert parse_object("not json") is None
    assert parse_object({"decoded": True}) == {"decoded": True}  # PostgreSQL's jsonb, decoded by the driver
    assert parse_object(None) is None
