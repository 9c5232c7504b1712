"""Page sizes, orders and keyset page tokens as upstream's lister takes them: pages neither skip nor
repeat rows while the history is written, and a token answers only the query that wrote it."""

from __future__ import annotations

import pytest
from apikit import T0, bump, pr

from tekton_results_tui.store.history import RunUpsert


@pytest.mark.parametrize("size,ok", [("4", False), ("5", True), ("10000", True), ("10001", False), ("-1", False),
                                     ("abc", False), ("0", True), ("", True)])
def test_page_size_bounds(api, size: str, ok: bool) -> None:
    r = api.get("/-/results/-/records", page_size=size) if size else api.get("/-/results/-/records")
    assert (r.status_code == 200) is ok, r.text
    if ok:
        n = len(r.json()["records"])
        assert n == (5 if size == "5" else 18)
    else:
        assert r.json()["code"] == 3 and ("page size" in r.json()["message"] or "page_size" in r.json()["message"])


def _walk(api, path: str, key: str, **params: str | int) -> list[dict]:
    out: list[dict] = []
    token = ""
    while True:
        body = api.json(path, **params, **({"page_token": token} if token else {}))
        out += body.get(key, [])
        token = body.get("next_page_token", "")
        if not token:
            return out


@pytest.mark.parametrize("order", ["", "create_time", "create_time desc", "update_time asc", "update_time DESC"])
def test_pages_cover_the_listing_once(api, order: str) -> None:
    params = {"order_by": order} if order else {}
    whole = api.json("/-/results/-/records", page_size=100, **params)["records"]
    paged = _walk(api, "/-/results/-/records", "records", page_size=5, **params)
    assert [r["name"] for r in paged] == [r["name"] for r in whole] and len(whole) == 18
    if order.startswith("create_time"):
        times = [r["create_time"] for r in whole]
        assert times == sorted(times, reverse=order.endswith("desc"))


def test_result_orders(api) -> None:
    by_start = api.json("/-/results", order_by="summary.start_time desc")["results"]
    starts = [r["summary"]["start_time"] for r in by_start]
    assert starts == sorted(starts, reverse=True)
    by_end = _walk(api, "/-/results", "results", page_size=5, order_by="summary.end_time")
    ends = [r["summary"].get("end_time", "") for r in by_end]
    assert ends == sorted(ends) and ends[0] == ""  # the running one has none: first ascending
    r = api.get("/-/results/-/records", order_by="summary.start_time")
    assert r.status_code == 400 and "summary.start_time: field is unknown" in r.json()["message"]
    r = api.get("/-/results", order_by="create_time sideways")
    assert r.status_code == 400 and "invalid order by" in r.json()["message"]


def test_token_is_bound_to_filter_order_and_parent(api) -> None:
    first = api.json("/-/results/-/records", page_size=5, filter="data_type == TASK_RUN || data_type == PIPELINE_RUN")
    token = first["next_page_token"]
    ok = api.get("/-/results/-/records", page_size=5, filter="data_type == TASK_RUN || data_type == PIPELINE_RUN",
                 page_token=token)
    assert ok.status_code == 200
    for params in ({"filter": "data_type == TASK_RUN"}, {"filter": ""},
                   {"filter": "data_type == TASK_RUN || data_type == PIPELINE_RUN", "order_by": "create_time"}):
        r = api.get("/-/results/-/records", page_size=5, page_token=token, **params)
        assert r.status_code == 400 and "invalid page token" in r.json()["message"], params
    r = api.get("/ci/results/-/records", page_size=5, page_token=token,
                filter="data_type == TASK_RUN || data_type == PIPELINE_RUN")
    assert r.status_code == 400
    r = api.get("/-/results", page_token=token)  # a Records token on Results
    assert r.status_code == 400
    for garbled in ("x", token[:-3], "W10", "eyJ4IjoxfQ"):
        r = api.get("/-/results/-/records", page_size=5, page_token=garbled,
                    filter="data_type == TASK_RUN || data_type == PIPELINE_RUN")
        assert r.status_code == 400 and "invalid page token" in r.json()["message"], garbled


@pytest.mark.parametrize("order", ["", "create_time", "create_time desc"])
def test_pages_while_rows_are_written(api, history, order: str) -> None:
    """Every Result stored before the walk is seen exactly once, though Results are added and updated
    between pages (new ones may or may not appear: they are after, or before, the walk's position)."""
    before = {r["name"] for r in api.json("/-/results", page_size=100)["results"]}
    params = {"order_by": order} if order else {}
    seen: list[str] = []
    token = ""
    i = 0
    while True:
        body = api.json("/-/results", page_size=5, **params, **({"page_token": token} if token else {}))
        seen += [r["name"] for r in body.get("results", [])]
        token = body.get("next_page_token", "")
        if not token:
            break
        i += 1
        changes = [RunUpsert(pr(f"new-{order or 'id'}-{i}-{k}", ns="ci", created=T0 - 20_000 + 1000 * i + k))
                   for k in range(3)]
        changes += [RunUpsert(bump(p, rv=10 + i)) for p in api.corpus.prs]
        history.apply(changes, cluster="test")
    assert len(seen) == len(set(seen)), "a Result appeared twice"
    assert before <= set(seen), f"skipped: {before - set(seen)}"
    assert i >= 1


def test_a_page_larger_than_a_read_is_streamed_whole(api, monkeypatch) -> None:
    """Pages past STREAM_ROWS are read and written in pieces: the same rows and token as one read."""
    from tekton_results_tui.api import app as app_mod

    whole = api.json("/-/results/-/records", page_size=12)
    whole_all = api.json("/-/results/-/records", page_size=100)
    monkeypatch.setattr(app_mod, "STREAM_ROWS", 5)
    r = api.get("/-/results/-/records", page_size=12)
    assert "Content-Length" not in r.headers  # streamed
    assert r.json()["records"] == whole["records"] and "next_page_token" in r.json()
    rest = api.json("/-/results/-/records", page_size=100, page_token=r.json()["next_page_token"])
    assert [x["name"] for x in r.json()["records"] + rest["records"]] == [x["name"] for x in whole_all["records"]]
    exact = api.json("/-/results/-/records", page_size=18)  # the page ends with the rows: no token
    assert len(exact["records"]) == 18 and "next_page_token" not in exact
    res = api.json("/-/results", page_size=6, order_by="create_time desc")
    assert len(res["results"]) == 6 and "next_page_token" not in res
    filtered = api.json("/-/results/-/records", page_size=7, filter="data_type == TASK_RUN")
    assert len(filtered["records"]) == 6 and "next_page_token" not in filtered
