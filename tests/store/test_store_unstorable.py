"""Nothing a run contains keeps it out of the history: NUL (which PostgreSQL refuses) and lone
surrogates (which no engine can encode) are stored under the documented rule — NUL as U+2400,
a lone surrogate as U+FFFD — with a warning on the run's Result; the rest of the batch is stored,
and what was stored reads back as JSON a terminal or a pipe can take."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.history import ClassifiedRun, Events, History, Logs, RunUpsert, StepLogData
from tekton_results_tui.store.storable import NUL_STAND_IN, SURROGATE_STAND_IN, make_storable, storable_text, suspect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile_corpus import hostile_runs, hostile_strings, pipeline_run, task_run  # noqa: E402

UNSTORABLE = ("\x00", "\ud800", "\udc80")


def _uid(n: int) -> str:
    return f"00000000-0000-4000-8777-{n:012d}"


def _all_strings(value) -> list[str]:
    out, stack = [], [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            out.extend(k for k in v if isinstance(k, str))
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return out


def _emittable(obj) -> None:
    """What `records -o json` does with a stored object: it must encode as UTF-8 without error."""
    json.dumps(obj, ensure_ascii=False).encode("utf-8")


def test_the_rule() -> None:
    assert storable_text("a\x00b\ud800c\udc80") == f"a{NUL_STAND_IN}b{SURROGATE_STAND_IN}c{SURROGATE_STAND_IN}"
    plain = "nothing to change: ✓ 😀"
    assert storable_text(plain) is plain
    fixed, changed = make_storable({"a\x00": ["ok", {"b": "x\ud800"}], "n": 5, "c": None})
    assert fixed == {f"a{NUL_STAND_IN}": ["ok", {"b": f"x{SURROGATE_STAND_IN}"}], "n": 5, "c": None}
    assert sorted(changed) == [f"a{NUL_STAND_IN}", f"a{NUL_STAND_IN}[1].b"]
    # the JSON-text check: NUL shows as an escape; a valid pair may trip it but the object is clean then
    assert suspect('{"a":"x\\u0000"}') and suspect('{"a":"\\ud83d\\ude00"}') and suspect('{"a":"\ud800"}')
    assert not suspect('{"a":"plain ascii"}') and not suspect('{"a":"✓ 😀"}')


def test_a_deeply_nested_object_is_rewritten_without_recursion() -> None:
    deep: dict = {"v": "x\x00"}
    for _ in range(20_000):
        deep = {"d": deep}
    fixed, changed = make_storable(deep)
    assert len(changed) == 1 and changed[0].endswith(".d.v")
    node = fixed
    while "d" in node:
        node = node["d"]
    assert node["v"] == "x" + NUL_STAND_IN


@pytest.mark.parametrize("bad", UNSTORABLE)
def test_a_run_with_an_unstorable_character_is_stored_with_a_warning_and_the_batch_with_it(history: History, bad) -> None:
    n = UNSTORABLE.index(bad)
    text = f"before{bad}after"
    hostile = pipeline_run(f"hostile-{n}", _uid(n), text=text, namespace="ci")
    hostile["metadata"]["annotations"][f"key{bad}"] = "in a key"
    child = task_run(f"hostile-{n}-task", _uid(10 + n), text=text, owner=hostile, namespace="ci")
    good = pipeline_run(f"good-{n}", _uid(20 + n), namespace="ci")
    res = history.apply([RunUpsert(hostile), RunUpsert(child), RunUpsert(good)])
    assert res.skipped == [] and res.stored == 3
    assert any("cannot store" in w and "metadata.annotations.note" in w for w in res.warnings), res.warnings

    stand_in = NUL_STAND_IN if bad == "\x00" else SURROGATE_STAND_IN
    rec = history.find_runs(f"hostile-{n}")[0]
    assert rec.pipeline == f"pipebefore{stand_in}after" and rec.reason == "Succeeded"
    obj = history.record_object(rec.id)
    assert obj["metadata"]["annotations"]["note"] == f"before{stand_in}after"
    assert f"key{stand_in}" in obj["metadata"]["annotations"]
    assert not any(c in s for s in _all_strings(obj) for c in UNSTORABLE)
    _emittable(obj)
    task = history.find_runs(f"hostile-{n}-task")[0]
    assert task.task == f"taskbefore{stand_in}after" and task.pipeline_task == f"ptaskbefore{stand_in}after"

    result = history.get_result(id=rec.result_id)
    assert any("cannot store" in w for w in history.result_details(result.id)["warnings"])
    assert history.find_runs(f"good-{n}"), "the rest of the batch is stored"
    # the filter language follows the same rule: what was sent with the character finds the run
    assert history.count_records(f"pipeline:pipebefore{bad}after") == 2
    # the same object again changes nothing (the rewritten text is what is stored and compared)
    assert history.apply([RunUpsert(hostile)]).changed == 0


def test_the_whole_hostile_corpus_is_stored_and_reads_back_on_either_engine(history: History) -> None:
    runs = hostile_runs()
    res = history.apply([RunUpsert(r) for r in runs])
    assert res.skipped == [], res.skipped
    uids = {r["metadata"]["uid"] for r in runs}
    assert res.stored == len(uids)
    assert history.count_records() == len(uids)
    page = history.list_records(limit=1000)
    objs = history.record_objects([r.id for r in page.items])
    assert len(objs) == len(uids)
    for obj in objs.values():
        assert not any(c in s for s in _all_strings(obj) for c in UNSTORABLE)
        _emittable(obj)
    for r in history.list_results(limit=1000).items:
        _emittable(history.result_details(r.id))
    # the forty-digit resourceVersion is kept as 0 (any later version replaces it), with a warning
    forty = history.find_runs("hostile-forty-digit-rv")[0]
    assert forty.rv == 0 and any("out of range" in w for w in res.warnings)


def test_a_classified_run_with_escaped_nul_or_surrogates_in_its_text_is_rewritten(history: History) -> None:
    """The import hands over compact JSON text as read: escapes PostgreSQL's JSONB refuses stay escapes."""
    obj = pipeline_run("escaped", _uid(40), text="z", namespace="ci")
    raw = json.dumps(obj, separators=(",", ":")).replace('"note":"z"', '"note":"a\\u0000b\\udc80c\\ud83d\\ude00"')
    info = g.classify(json.loads(raw))
    res = history.apply([ClassifiedRun(info, raw)])
    assert res.skipped == [] and res.stored == 1
    note = history.record_object(history.find_runs("escaped")[0].id)["metadata"]["annotations"]["note"]
    assert note == f"a{NUL_STAND_IN}b{SURROGATE_STAND_IN}c😀"


def test_logs_and_events_with_unstorable_strings_are_stored(history: History) -> None:
    bad = hostile_strings()["nul"] + hostile_strings()["lone_surrogate_high"]
    owner = pipeline_run("with-docs", _uid(50), namespace="ci")
    run = task_run("with-docs-task", _uid(51), owner=owner, namespace="ci")
    run["metadata"]["annotations"]["note"] = bad
    history.apply([RunUpsert(owner), RunUpsert(run)])
    event = {"metadata": {"name": f"ev{bad}", "resourceVersion": "9"}, "message": bad, "reason": "Pulled"}
    res = history.apply([
        Logs(run, [StepLogData(f"step{bad}", "step-x", b"log \x00 bytes\n")]),
        Events(run, [event]),
    ])
    assert res.skipped == [] and res.changed >= 2
    log = history.log_record_for(run["metadata"]["uid"])
    steps = history.step_logs(log.id)
    assert [s.step for s in steps] == [storable_text(f"step{bad}")]
    assert history.step_log_text(steps[0].id) == b"log \x00 bytes\n", "log bodies are bytes: kept as they are"
    docs = [r for r in history.records_of(log.result_id) if r.kind == "EventList"]
    events = history.record_object(docs[0].id)["items"]
    assert events[0]["message"] == storable_text(bad)
    _emittable(events)


def test_nan_in_an_object_skips_that_object_with_a_reason_not_the_batch(history: History) -> None:
    bad = pipeline_run("not-json", _uid(60), namespace="ci")
    bad["spec"]["x"] = float("nan")
    good = pipeline_run("fine", _uid(61), namespace="ci")
    res = history.apply([RunUpsert(bad), RunUpsert(good)])
    assert [(s.what, s.why) for s in res.skipped] == [("PipelineRun ci/not-json", "not representable as JSON (NaN or Infinity)")]
    assert history.find_runs("fine") and not history.find_runs("not-json")
