"""The filter language on both engines: every key, negation, comma lists, wildcards, errors; keyset paging."""

from __future__ import annotations

import pytest
from store_objects import T0, pr, tr

from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.store.query import FilterError, parse_duration, parse_filter

DAY = 86400


@pytest.fixture
def seeded(h: History) -> History:
    """A small history with every outcome, namespaces, pipelines, labels, a standalone TaskRun, an orphan child."""
    b1 = pr("build-1", pipeline="build", created=T0 - 3600, start=T0 - 3599, end=T0 - 3539, labels={"app": "web"})
    b2 = pr("build-2", pipeline="build", created=T0 - 3 * DAY, start=T0 - 3 * DAY, end=T0 - 3 * DAY + 600,
            cond="False", reason="StepOOM", labels={"app": "api"})
    d1 = pr("deploy-1", ns="team-a", pipeline="deploy-prod", created=T0 - 10 * DAY, start=T0 - 10 * DAY,
            end=T0 - 10 * DAY + 3600, cond="False", reason="PipelineRunTimeout", labels={"app": "web", "env": "prod"})
    d2 = pr("deploy-2", ns="team-a", pipeline="deploy-staging", created=T0 - 600, start=T0 - 600, end=T0 - 570,
            cond="False", reason="PipelineRunCancelled")
    l1 = pr("lint_1", ns="team-b", pipeline="lint", created=T0 - 60, cond="Unknown", reason="Running")
    c1 = tr("check-1", ns="team-b", pipeline=None, task="kubectl", created=T0 - 7200, start=T0 - 7200, end=T0 - 7195)
    orphan_parent = pr("never-seen", created=T0 - 5 * DAY)
    orphan = tr("orphan-child", orphan_parent, task="golang-build", created=T0 - 5 * DAY)
    h.apply([
        RunUpsert(o) for o in [
            b1, tr("build-1-compile", b1, task="golang-build", pipeline_task="compile"),
            b2, tr("build-2-test", b2, task="golang-test", pipeline_task="unit", cond="False", reason="StepOOM"),
            d1, d2, l1, c1, orphan,
        ]
    ])
    h.apply([RunUpsert(pr("prod-run", created=T0 - 100))], cluster="prod")
    return h


ALL = {"build-1", "build-2", "deploy-1", "deploy-2", "lint_1", "check-1", None, "prod-run"}

RESULT_CASES = [
    ("", ALL),
    ("status:failed", {"build-2"}),
    ("status:succeeded", {"build-1", "check-1", "prod-run"}),
    ("status:timeout", {"deploy-1"}),
    ("status:cancelled", {"deploy-2"}),
    ("status:canceled", {"deploy-2"}),
    ("status:running", {"lint_1", None}),
    ("status:failed,timeout", {"build-2", "deploy-1"}),
    ("-status:succeeded", ALL - {"build-1", "check-1", "prod-run"}),
    ("ns:team-a", {"deploy-1", "deploy-2"}),
    ("namespace:team-b", {"lint_1", "check-1"}),
    ("ns:team-*", {"deploy-1", "deploy-2", "lint_1", "check-1"}),
    ("ns:ci,team-b", ALL - {"deploy-1", "deploy-2"}),
    ("-ns:ci", {"deploy-1", "deploy-2", "lint_1", "check-1"}),
    ("pipeline:build", {"build-1", "build-2", "prod-run"}),
    ("pipeline:deploy-*", {"deploy-1", "deploy-2"}),
    ("pipeline:DEPLOY-*", {"deploy-1", "deploy-2"}),  # wildcards match case-insensitively
    ("pipeline:lint,deploy-prod", {"lint_1", "deploy-1"}),
    ("-pipeline:build", ALL - {"build-1", "build-2", "prod-run"}),  # NULL pipelines stay when negated
    ("task:golang-build", {"build-1", None}),
    ("task:golang-*", {"build-1", "build-2", None}),
    ("task:unit", {"build-2"}),  # the pipeline task name matches too
    ("task:kubectl", {"check-1"}),
    ("-task:golang-*", ALL - {"build-1", "build-2", None}),
    ("kind:taskrun", {"build-1", "build-2", "check-1", None}),
    ("kind:pipelinerun", ALL - {"check-1", None}),
    ("kind:pr,tr", ALL),
    ("-kind:taskrun", {"deploy-1", "deploy-2", "lint_1", "prod-run"}),
    ("label:app=web", {"build-1", "deploy-1"}),
    ("label:env", {"deploy-1"}),
    ("label:app!=web", ALL - {"build-1", "deploy-1"}),
    ("-label:app", ALL - {"build-1", "build-2", "deploy-1"}),
    ("label:tekton.dev/task=kubectl", {"check-1"}),
    ("reason:StepOOM", {"build-2"}),
    ("reason:Pipeline*", {"deploy-1", "deploy-2"}),
    ("-reason:StepOOM", ALL - {"build-2"}),
    ("cluster:prod", {"prod-run"}),
    ("cluster:pr*", {"prod-run"}),
    ("-cluster:prod", ALL - {"prod-run"}),
    ("since:2h", {"build-1", "deploy-2", "lint_1", "check-1", "prod-run"}),
    ("since:4d", ALL - {"deploy-1", None}),
    ("-since:4d", {"deploy-1", None}),
    ("before:1d", {"build-2", "deploy-1", None}),
    ("before:2026-05-20", {"deploy-1"}),  # T0 is 2026-05-28
    ("since:2026-05-20T00:00:00Z", ALL - {"deploy-1"}),
    ("dur>5m", {"build-2", "deploy-1"}),
    ("dur>=600s", {"build-2", "deploy-1"}),
    ("dur<1m", {"deploy-2", "check-1"}),
    ("dur<=60s", {"build-1", "deploy-2", "check-1"}),
    ("dur=10m", {"build-2"}),
    ("duration>1h", set()),
    ("-dur>5m", ALL - {"build-2", "deploy-1"}),
    ("name:build-1", {"build-1"}),
    ("name:build-*", {"build-1", "build-2"}),
    ("deploy", {"deploy-1", "deploy-2"}),
    ("BUILD", {"build-1", "build-2", "prod-run"}),  # bare word: run or pipeline name, any case
    ("lint_", {"lint_1"}),  # `_` is a literal, not a LIKE wildcard
    ("%", set()),
    ("-deploy", ALL - {"deploy-1", "deploy-2"}),
    ("ns:ci status:failed", {"build-2"}),
    ("pipeline:deploy-* -status:cancelled", {"deploy-1"}),
    ("label:app=web since:2h", {"build-1"}),
    ("build status:failed,succeeded dur>1m", {"build-2", "prod-run"}),
    ("ns:team-a,team-b -kind:taskrun since:1d", {"deploy-2", "lint_1"}),
]


@pytest.mark.parametrize(("text", "expected"), RESULT_CASES, ids=[c[0] or "(empty)" for c in RESULT_CASES])
def test_result_filters(seeded: History, text: str, expected: set) -> None:
    got = [r.display_name for r in seeded.list_results(text, limit=100).items]
    assert len(got) == len(set(got)) or None in got
    assert set(got) == expected
    assert seeded.count_results(text) == len(got)


RECORD_CASES = [
    ("kind:taskrun", {"build-1-compile", "build-2-test", "check-1", "orphan-child"}),
    ("kind:taskrun status:failed", {"build-2-test"}),
    ("task:compile", {"build-1-compile"}),
    ("task:golang-*", {"build-1-compile", "build-2-test", "orphan-child"}),
    ("reason:StepOOM", {"build-2", "build-2-test"}),
    ("pipeline:build kind:pipelinerun", {"build-1", "build-2", "prod-run"}),
    # labels are indexed per Result (Tekton copies them onto TaskRuns anyway): a Record matches when its Result does
    ("label:app=web", {"build-1", "build-1-compile", "deploy-1"}),
    ("label:app=web kind:pr", {"build-1", "deploy-1"}),
    ("dur>=10m", {"build-2", "deploy-1"}),
    ("compile", {"build-1-compile"}),
    ("-ns:ci ns:team-*", {"deploy-1", "deploy-2", "lint_1", "check-1"}),
]


@pytest.mark.parametrize(("text", "expected"), RECORD_CASES, ids=[c[0] for c in RECORD_CASES])
def test_record_filters(seeded: History, text: str, expected: set) -> None:
    got = [r.run_name for r in seeded.list_records(text, limit=100).items]
    assert sorted(got) == sorted(expected)
    assert seeded.count_records(text) == len(got)


def test_records_of_one_result(seeded: History) -> None:
    b1 = seeded.list_results("name:build-1").items[0]
    assert {r.run_name for r in seeded.list_records(result=b1.name).items} == {"build-1", "build-1-compile"}
    assert {r.run_name for r in seeded.list_records("kind:tr", result=b1.id).items} == {"build-1-compile"}


ERROR_CASES = [
    ("stauts:failed", "stauts:failed", 'unknown key "stauts" in "stauts:failed" — did you mean "status"?'),
    ("ns:ci piplene:x", "piplene:x", 'did you mean "pipeline"?'),
    ("zzz:1", "zzz:1", "known keys: status"),
    ("status:broken", "status:broken", 'bad status "broken" in "status:broken"'),
    ("status:failed,nope", "status:failed,nope", 'bad status "nope"'),
    ("kind:pod", "kind:pod", 'bad kind "pod"'),
    ("since:yesterday", "since:yesterday", 'bad time "yesterday"'),
    ("before:2026-13-45", "before:2026-13-45", "bad time"),
    ("dur>5x", "dur>5x", 'bad duration "5x"'),
    ("dur>", "dur>", "bad duration"),
    ("dur:5m", "dur:5m", "write durations as dur>5m"),
    ("dur~5m", "dur~5m", 'bad duration term "dur~5m"'),
    ("label:=x", "label:=x", 'bad label "=x"'),
    ("status:", "status:", 'no value after "status:"'),
    ("-pipeline:", "-pipeline:", 'no value after "pipeline:"'),
    ('name:"unclosed', 'name:"unclosed', "cannot read filter"),
]


@pytest.mark.parametrize(("text", "term", "message"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_filter_errors_name_the_term(text: str, term: str, message: str) -> None:
    with pytest.raises(FilterError) as err:
        parse_filter(text, now=T0)
    assert err.value.term == term
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_filter_errors_surface_through_the_store(h: History) -> None:
    with pytest.raises(FilterError, match='did you mean "status"'):
        h.list_results("stauts:failed")
    with pytest.raises(FilterError):
        h.count_records("kind:pod")
    with pytest.raises(FilterError):
        h.aggregate("pipeline", "since:never")


def test_parse_duration() -> None:
    assert parse_duration("90s") == 90
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2d") == 2 * DAY
    assert parse_duration("1w") == 7 * DAY
    assert parse_duration("250ms") == 0.25
    for bad in ("", "5", "60", "m5", "5 m", "1h x"):
        with pytest.raises(ValueError):
            parse_duration(bad)


# --- keyset paging -----------------------------------------------------------------------------

ORDERS = ["newest", "oldest", "start", "end", "duration", "name"]


def _sort_tuple(row, order: str) -> tuple:
    v = {"newest": row.sort_time, "oldest": row.sort_time, "start": row.start, "end": row.end,
         "duration": row.duration, "name": row.display_name}[order]
    if v is None:
        v = -1 if order != "name" else ""
    return (v, row.id)


def _history_for_paging(h: History, n: int) -> None:
    objs = []
    for i in range(n):
        created = T0 - 10_000 + (i // 3) * 60  # ties on every order's value, broken by id
        if i % 7 == 3:
            objs.append(pr(f"run-{i % 5}", created=created, cond="Unknown", reason="Running"))  # NULL end/duration
        elif i % 11 == 5:
            objs.append(tr(f"orphan-{i}", pr(f"unseen-{i}"), created=created))  # NULL display name
        else:
            objs.append(pr(f"run-{i % 5}", created=created, start=created + i % 4, end=created + 30 * (i % 6)))
    h.apply([RunUpsert(o) for o in objs])


@pytest.mark.parametrize("reverse", [False, True], ids=["default", "reverse"])
@pytest.mark.parametrize("order", ORDERS)
def test_pages_have_no_duplicates_or_gaps_while_rows_arrive(h: History, order: str, reverse: bool) -> None:
    _history_for_paging(h, 40)
    before = {r.id for r in h.list_results(limit=1000).items}
    assert len(before) == 40
    seen: list = []
    token = None
    arrivals = 0
    while True:
        page = h.list_results(order=order, page_token=token, limit=7, reverse=reverse)
        seen.extend(page.items)
        # rows arrive between page fetches: newest, oldest, mid-range and running ones
        arrivals += 1
        created = T0 - 10_000 + (arrivals * 97) % 900
        h.apply([RunUpsert(pr(f"late-{arrivals}", created=created, start=created + 1, end=created + arrivals)),
                 RunUpsert(pr(f"late-run-{arrivals}", created=T0 + arrivals, cond="Unknown", reason="Running"))])
        token = page.next_token
        if token is None:
            break
    ids = [r.id for r in seen]
    assert len(ids) == len(set(ids)), "a row appeared on two pages"
    assert before <= set(ids), f"rows missing from the pages: {sorted(before - set(ids))}"
    keys = [_sort_tuple(r, order) for r in seen]
    descending = (order != "oldest" and order != "name") != reverse
    assert keys == sorted(keys, reverse=descending)


@pytest.mark.parametrize("order", ORDERS)
def test_record_pages_cover_everything_once(h: History, order: str) -> None:
    _history_for_paging(h, 30)
    total = h.count_records()
    seen, token = [], None
    while True:
        page = h.list_records(order=order, page_token=token, limit=4)
        seen += [r.id for r in page.items]
        token = page.next_token
        if token is None:
            break
    assert len(seen) == len(set(seen)) == total


def test_bad_tokens_and_orders_are_clear_errors(h: History) -> None:
    _history_for_paging(h, 10)
    tok = h.list_results(limit=3).next_token
    with pytest.raises(ValueError, match="bad page token"):
        h.list_results(page_token="garbage!")
    with pytest.raises(ValueError, match="another order"):
        h.list_results(order="name", page_token=tok)
    with pytest.raises(ValueError, match="unknown order 'size'"):
        h.list_results(order="size")
    with pytest.raises(ValueError, match="unknown order"):
        h.list_records(order="size")
