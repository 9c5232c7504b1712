"""Every CEL construct the API takes, checked against the same question asked of the stored objects
in Python; every construct it does not take is a 400 naming it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from apikit import T0

from tekton_results_tui.store.grouping import format_time

Obj = dict[str, Any]


def _records(api) -> list[tuple[str, str, Obj]]:
    recs = api.json("/-/results/-/records", page_size=1000)["records"]
    return [(r["uid"], r["data"]["type"], json.loads(base64.b64decode(r["data"]["value"]))) for r in recs]


def _name(o: Obj) -> str | None:
    return (o.get("metadata") or {}).get("name")


def _labels(o: Obj) -> dict:
    return (o.get("metadata") or {}).get("labels") or {}


def _ann(o: Obj) -> dict:
    return (o.get("metadata") or {}).get("annotations") or {}


def _cond(o: Obj) -> dict | None:
    cs = (o.get("status") or {}).get("conditions") or []
    return cs[0] if cs else None


def _secs(ts: str | None) -> int | None:
    from datetime import datetime

    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()) if ts else None


MID = format_time(T0 - 10_000 + 250)  # between the third and the fourth run's start
PR, TR = "tekton.dev/v1.PipelineRun", "tekton.dev/v1.TaskRun"

RECORD_CASES: list[tuple[str, Callable[[str, Obj], bool]]] = [
    ('data.metadata.name == "build-1"', lambda t, o: _name(o) == "build-1"),
    ('data.metadata.name != "build-1"', lambda t, o: _name(o) is not None and _name(o) != "build-1"),
    ('data.metadata.name in ["build-1", "test-1-compile", "deploy-2-compile-log"]',
     lambda t, o: _name(o) in ("build-1", "test-1-compile", "deploy-2-compile-log")),
    ('!(data.metadata.name in ["build-1"]) && data_type == PIPELINE_RUN', lambda t, o: t == PR and _name(o) != "build-1"),
    ('data.metadata.name.startsWith("deploy")', lambda t, o: (_name(o) or "").startswith("deploy")),
    ('data.metadata.name.endsWith("-compile")', lambda t, o: (_name(o) or "").endswith("-compile")),
    ('data.metadata.name.contains("ild-2")', lambda t, o: "ild-2" in (_name(o) or "")),
    ("data_type == PIPELINE_RUN", lambda t, o: t == PR),
    ("data_type == 'TASK_RUN'", lambda t, o: t == TR),
    ('data_type == "tekton.dev/v1.TaskRun"', lambda t, o: t == TR),
    ("data_type != TASK_RUN", lambda t, o: t != TR),
    ("data_type in [PIPELINE_RUN, TASK_RUN]", lambda t, o: t in (PR, TR)),
    ('data.metadata.labels["team"] == "a"', lambda t, o: _labels(o).get("team") == "a"),
    ("data.metadata.labels['tekton.dev/pipeline'] == 'test' && data_type == 'PIPELINE_RUN'",
     lambda t, o: t == PR and _labels(o).get("tekton.dev/pipeline") == "test"),
    ('data.metadata.labels["team"] != "a"', lambda t, o: "team" in _labels(o) and _labels(o)["team"] != "a"),
    ('data.metadata.labels["team"] in ["b", "c"]', lambda t, o: _labels(o).get("team") in ("b", "c")),
    ('data.metadata.labels.contains("kind")', lambda t, o: "kind" in _labels(o)),
    ('data.metadata.annotations["repo"] == "web"', lambda t, o: _ann(o).get("repo") == "web"),
    ('data.metadata.annotations.contains("repo") && data_type == PIPELINE_RUN', lambda t, o: t == PR and "repo" in _ann(o)),
    ('data.metadata.annotations["repo"].startsWith("a")', lambda t, o: _ann(o).get("repo", "").startswith("a") and "repo" in _ann(o)),
    ('data.metadata.namespace == "prod"', lambda t, o: (o.get("metadata") or {}).get("namespace") == "prod"),
    ('data.status.conditions[0].reason == "Failed"', lambda t, o: (_cond(o) or {}).get("reason") == "Failed"),
    ('data.status.conditions[0].status == "False"', lambda t, o: (_cond(o) or {}).get("status") == "False"),
    ("!(data.status.conditions[0].status == 'True')", lambda t, o: _cond(o) is not None and _cond(o)["status"] != "True"),
    ('data.status.conditions[0].status == "Unknown"', lambda t, o: (_cond(o) or {}).get("status") == "Unknown"),
    (f'data.status.startTime > timestamp("{MID}")',
     lambda t, o: (_secs((o.get("status") or {}).get("startTime")) or 0) > _secs(MID)),
    (f'data.status.completionTime <= timestamp("{MID}")',
     lambda t, o: (o.get("status") or {}).get("completionTime") is not None
     and _secs(o["status"]["completionTime"]) <= _secs(MID)),
    (f'data.metadata.creationTimestamp >= timestamp("{MID}") && data_type == PIPELINE_RUN',
     lambda t, o: t == PR and _secs(o["metadata"]["creationTimestamp"]) >= _secs(MID)),
    ('data.status.completionTime - data.status.startTime > duration("5m")',
     lambda t, o: bool((o.get("status") or {}).get("completionTime")) and
     _secs(o["status"]["completionTime"]) - _secs(o["status"]["startTime"]) > 300),
    ('data.status.completionTime - data.status.startTime <= duration("1h2m3s") && data_type == TASK_RUN',
     lambda t, o: t == TR and bool((o.get("status") or {}).get("completionTime"))),
    # a fraction of a second compares exactly (it was cut to whole seconds: `< 59.5s` asked `< 59`)
    ('data.status.completionTime - data.status.startTime < duration("59.5s")',
     lambda t, o: bool((o.get("status") or {}).get("completionTime")) and
     _secs(o["status"]["completionTime"]) - _secs(o["status"]["startTime"]) < 59.5),
    ('data.status.completionTime - data.status.startTime >= duration("57.5s")',
     lambda t, o: bool((o.get("status") or {}).get("completionTime")) and
     _secs(o["status"]["completionTime"]) - _secs(o["status"]["startTime"]) >= 57.5),
    ('data.status.completionTime - data.status.startTime == duration("59.5s")', lambda t, o: False),
    ('name.startsWith("prod/")', lambda t, o: (o.get("metadata") or {}).get("namespace") == "prod"),
    ('data.metadata.name == "build-1" || data.metadata.name == "deploy-2"', lambda t, o: _name(o) in ("build-1", "deploy-2")),
    ('(data_type == PIPELINE_RUN || data_type == TASK_RUN) && !(data.metadata.labels["team"] == "a")',
     lambda t, o: t in (PR, TR) and not _labels(o).get("team") == "a" and "team" in _labels(o)),
    ("true", lambda t, o: True),
    ("false", lambda t, o: False),
]


@pytest.mark.parametrize("cel,pred", RECORD_CASES, ids=[c for c, _ in RECORD_CASES])
def test_record_filters_match_the_objects(api, cel: str, pred: Callable[[str, Obj], bool]) -> None:
    everything = _records(api)
    want = {uid for uid, t, o in everything if pred(t, o)}
    got = {r["uid"] for r in api.json("/-/results/-/records", filter=cel, page_size=1000).get("records", [])}
    assert got == want


def test_record_filter_by_uid_and_full_name(api) -> None:
    p = api.corpus.prs[2]
    uid = p["metadata"]["uid"]
    name = f"{api.corpus.result_name(p)}/records/{uid}"
    assert [r["uid"] for r in api.json("/-/results/-/records", filter=f'data.metadata.uid == "{uid}"')["records"]] == [uid]
    assert [r["name"] for r in api.json("/-/results/-/records", filter=f'name == "{name}"')["records"]] == [name]


def _results(api, cel: str) -> set[str]:
    return {r["name"] for r in api.json("/-/results", filter=cel, page_size=100).get("results", [])}


def test_result_filters(api) -> None:
    c = api.corpus
    names = [c.result_name(p) for p in c.prs]  # build-1 SUCCESS, build-2 FAILURE, test-1 TIMEOUT, test-2 running,
    # deploy-1 CANCELLED, deploy-2 SUCCESS
    assert _results(api, "summary.status == SUCCESS") == {names[0], names[5]}
    assert _results(api, "summary.status != SUCCESS") == set(names) - {names[0], names[5]}
    assert _results(api, "!(summary.status == SUCCESS)") == set(names) - {names[0], names[5]}
    assert _results(api, "summary.status in [FAILURE, TIMEOUT]") == {names[1], names[2]}
    assert _results(api, "summary.status == CANCELLED || summary.status == UNKNOWN") == {names[3], names[4]}
    assert _results(api, "summary.type == 'PIPELINE_RUN'") == set(names)
    assert _results(api, "summary.type == TASK_RUN") == set()
    assert _results(api, 'summary.type == "tekton.dev/v1.PipelineRun" && parent == "prod"') == {names[4], names[5]}
    assert _results(api, 'annotations["repo"] == "web"') == {names[0], names[4]}
    assert _results(api, 'annotations.contains("repo")') == {names[0], names[2], names[4]}
    assert _results(api, 'summary.annotations["owner"] == "b"') == {names[2]}
    assert _results(api, "summary.annotations.contains('owner')") == {names[0], names[2], names[4]}
    uid = c.prs[1]["metadata"]["uid"]
    assert _results(api, f'summary.record.endsWith("{uid}")') == {names[1]}
    one = api.json(f"/{names[3]}")
    assert _results(api, f'uid == "{one["uid"]}"') == {names[3]}
    assert _results(api, f'summary.start_time > timestamp("{MID}")') == set(names[3:])
    end = format_time(T0 - 9000)  # ends: T0-9940, -9740, -9540, running, -9140, -8940
    assert _results(api, f'summary.end_time < timestamp("{end}")') == {names[0], names[1], names[2], names[4]}
    assert _results(api, 'create_time > timestamp("2000-01-01T00:00:00Z") && update_time > timestamp("2000-01-01T00:00:00+02:00")') == set(names)
    assert _results(api, 'create_time < timestamp("2000-01-01T00:00:00Z")') == set()
    assert _results(api, 'parent.startsWith("pro")') == {names[4], names[5]}


UNSUPPORTED = [
    ("data.status.completionTime.getDate() == 7", "getDate"),
    ("size(data.status.pipelineSpec.tasks) >= 3", "size"),
    ('name.matches("^foo.*$")', "matches"),
    ('data.spec.serviceAccountName == "default"', "data.spec.serviceAccountName"),
    ("data.spec.pipelineSpec.tasks[0].name == 'x'", "data.spec.pipelineSpec.tasks[0].name"),
    ('data_type == "x" ? true : false', "? :"),
    ("data.metadata.name == data.metadata.namespace", "comparing two fields"),
    ("data.status.startTime + duration('5m') > timestamp('2020-01-01T00:00:00Z')", "arithmetic"),
    ('data.status.startTime > "2020-01-01"', "timestamp"),
    ('data.status.startTime > timestamp("yesterday")', "RFC 3339"),
    ('data.status.completionTime - data.status.startTime > duration("5 minutes")', "duration"),
    ("data.metadata.labels == {}", "map"),
    ('string(data.status.completionTime) == "2021-02-02T22:37:32Z"', "string"),
    ("data.metadata.name = 'x'", "syntax error"),
    ("bogus == 1", "bogus"),
    ("data_type", "data_type used as a condition"),  # a bare field: not "unsupported field" (it is supported)
    ("!name", "name used as a condition"),
]


@pytest.mark.parametrize("cel,named", UNSUPPORTED, ids=[c for c, _ in UNSUPPORTED])
def test_unsupported_constructs_are_400_naming_them(api, cel: str, named: str) -> None:
    r = api.get("/-/results/-/records", filter=cel)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == 3 and named in body["message"], body["message"]


def test_unsupported_on_results_and_summary(api) -> None:
    r = api.get("/-/results", filter='summary.status == "BOGUS"')
    assert r.status_code == 400 and "SUCCESS" in r.json()["message"]
    r = api.get("/-/results", filter="data.metadata.name == 'x'")
    assert r.status_code == 400 and "data.metadata.name" in r.json()["message"]
    r = api.get("/-/results/-/records/summary", filter="size(x) > 1")
    assert r.status_code == 400 and "size" in r.json()["message"]


@pytest.mark.parametrize("share", [0, 10**9], ids=["common-label-scan", "rare-label-lookup"])
def test_label_filters_give_the_same_rows_by_either_plan(api, monkeypatch, share: int) -> None:
    """A label on many Results is checked walking Records in order, a rare one by looking its Results
    up: both plans answer the same rows."""
    from tekton_results_tui.store import api_filter

    monkeypatch.setattr(api_filter, "RARE_LABEL_SHARE", share)
    everything = _records(api)
    for cel, pred in RECORD_CASES:
        if "labels" not in cel:
            continue
        want = {uid for uid, t, o in everything if pred(t, o)}
        got = _walk_uids(api, cel)
        assert got == want, cel


def _walk_uids(api, cel: str) -> set[str]:
    out: set[str] = set()
    token = ""
    while True:
        body = api.json("/-/results/-/records", filter=cel, page_size=5, **({"page_token": token} if token else {}))
        out |= {r["uid"] for r in body.get("records", [])}
        token = body.get("next_page_token", "")
        if not token:
            return out


def test_compiled_filters_cached_are_short_ones_only() -> None:
    """Compiled filters are cached for the filters clients repeat (a dashboard's, each page of a
    listing). A long one is compiled each time: a tree holds ~12x its text (an 8 KB `in` list: ~90 KB),
    so 1,024 distinct 8 KB filters from one client kept ~100 MB for the life of `serve`."""
    from tekton_results_tui.api import cel_filter as cf

    cf._compiled.cache_clear()
    short = 'data.metadata.name in ["a", "b"] && parent == "ci"'
    assert cf.compile_filter(short, "records") is cf.compile_filter(short, "records")
    assert cf._compiled.cache_info().currsize == 1
    long_ = "data.metadata.name in [" + ",".join(f'"{i}"' for i in range(cf.MAX_CACHED_FILTER // 5)) + "]"
    assert cf.MAX_CACHED_FILTER < len(long_) <= cf.MAX_FILTER
    assert cf.compile_filter(long_, "records") == cf.compile_filter(long_, "records")
    assert cf._compiled.cache_info().currsize == 1
    assert cf.MAX_CACHED_FILTER * cf._compiled.cache_info().maxsize <= 2 * 1024 * 1024  # texts cached: <= 2 MB


def test_label_share_cache_keeps_no_filter_values(sqlite_url) -> None:
    """The label shares (they pick a plan on SQLite) are remembered per label filter without holding its
    values: keyed by the statement and values, 4,096 distinct 8 KB `in` lists kept ~80 KB each (~330 MB)."""
    from tekton_results_tui.store import api_filter
    from tekton_results_tui.store.api_filter import Cond, compile_node
    from tekton_results_tui.store.db import open_database

    db = open_database(sqlite_url)
    try:
        api_filter._shares.clear()
        for i in range(5):
            vals = tuple(f"value-{i}-{j}" for j in range(1000))
            compile_node(Cond("data.metadata.labels", "in", vals, key="team"), "records")
            compile_node(Cond("data.metadata.labels", "in", vals, key="team"), "records")  # the same: one entry
        assert len(api_filter._shares) == 5
        assert sum(len(repr(k)) for k in api_filter._shares) < 5 * 500
    finally:
        db.close()


@pytest.mark.parametrize("cel", [
    "create_time > 99999999999999999999", "update_time < 18446744073709551615u", "create_time > -9223372036854775809",
    'data.status.completionTime - data.status.startTime > duration("9999999999999999999999s")',
    'data.status.startTime < 99999999999999999999',
])
def test_numbers_past_64_bits_are_400_naming_them(api, cel: str) -> None:
    """CEL's ints are 64-bit and a duration is at most ~292 years (Go's): a literal past that is a bad
    filter (400), not a store error (SQLite cannot bind it: 500)."""
    for path in ["/-/results/-/records", "/-/results/-/records/summary", "/-/results"]:
        if path == "/-/results" and cel.startswith("data."):
            continue
        r = api.get(path, filter=cel)
        assert r.status_code == 400, (path, r.status_code, r.text)
        assert "64-bit" in r.json()["message"] or "292 years" in r.json()["message"], r.text


@pytest.mark.parametrize("join", [" || ", " && "])
def test_a_long_chain_of_terms_at_the_length_cap_answers(api, join: str) -> None:
    """`a || b || c ...` up to the 8,192-character cap: SQL nested as deep as the chain overflowed SQLite's
    parser (a 500); the chain is one flat list joined as a balanced tree."""
    names = ["build-1", "test-1-compile"]
    if join == " || ":
        terms = [f'data.metadata.name == "{n}"' for n in names]
        terms += [f'data.metadata.name == "none-{i}"' for i in range(400)]
        want = {u for u, _, o in _records(api) if _name(o) in names}
    else:
        terms = [f'data.metadata.name != "none-{i}"' for i in range(400)]
        want = {u for u, _, o in _records(api) if _name(o) is not None}
    cel = join.join(terms)
    while len(cel) > 8192:
        terms.pop()
        cel = join.join(terms)
    assert len(terms) > 150
    got = {r["uid"] for r in api.json("/-/results/-/records", filter=cel, page_size=1000)["records"]}
    assert got == want and got
