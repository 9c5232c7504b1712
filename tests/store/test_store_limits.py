"""Huge and garbled numbers are errors that name what is wrong, never an overflow deep in a driver:
filter terms, page tokens, page sizes, prune times, resourceVersions, and thousands of terms."""

from __future__ import annotations

import base64
import json

import pytest
from store_objects import pr, tr

from tekton_results_tui.errors import UserError
from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.store.query import MAX_TERMS, FilterError, parse_duration, parse_filter
from tekton_results_tui.store.rows import PageTokenError


@pytest.mark.parametrize(("text", "names"), [
    ("dur>99999999999999999999999", "dur>99999999999999999999999"),
    ("dur>99999999999999999999999s", "longer than 1000 years"),
    ("dur<" + "9" * 400 + "h", "longer than 1000 years"),
    ("since:99999999999999d", "longer than 1000 years"),
    ("since:" + "9" * 400 + "w", "longer than 1000 years"),
    ("-since:99999999999999999999d", "longer than 1000 years"),
    ("before:99999-01-01", "before:99999-01-01"),
    ("before:0000-01-01", "before:0000-01-01"),
    ("before:2026-13-45", "before:2026-13-45"),
    ("ns:,", "no value"),
    ("status:failed " * 5000, f"at most {MAX_TERMS}"),
    ("ns:" + ",".join(f"n{i}" for i in range(5000)), "comma-separated"),
])
def test_huge_or_garbled_filter_values_are_filter_errors_naming_the_term(h: History, text: str, names: str) -> None:
    with pytest.raises(FilterError) as err:
        parse_filter(text)
    assert names in str(err.value) and len(str(err.value)) < 300 and "\n" not in str(err.value)
    assert isinstance(err.value, UserError)  # the CLI prints it as one line
    with pytest.raises(FilterError):
        h.list_results(text)


def test_the_most_terms_and_values_a_filter_takes_run_as_sql_on_both_engines(h: History) -> None:
    h.apply([RunUpsert(pr("p0", ns="n0")), RunUpsert(pr("p1", ns="n1"))])
    many_values = "ns:" + ",".join(f"n{i}" for i in range(99))
    assert h.count_results(many_values) == 2 and h.count_records(many_values) == 2
    many_terms = " ".join(["-status:cancelled", "-ns:nope", "dur<1000w", "since:1000w"] * (MAX_TERMS // 4))
    assert len(many_terms.split()) == MAX_TERMS
    assert h.count_results(many_terms) == 2 and h.count_records(many_terms) == 2
    assert h.count_results("dur<1000w") == 2
    assert parse_duration("1000w") == 1000 * 7 * 86400


def _token(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize("token", [
    _token(["newest", 10**30, 5]),
    _token(["newest", 5, 10**30]),
    _token(["newest", -(10**30), 5]),
    _token(["newest", "text", 5]),
    _token(["newest", 1.5e300, 5]),
    _token(["newest", 5, "7"]),
    _token(["newest", None, 5]),
    _token(["newest", 5]),
    _token({"order": "newest"}),
    _token([["newest"], 5, 5]),
    "not base64 at all ✓",
    "A" * 10_000,
    "",
    "=",
    base64.urlsafe_b64encode(b"\xff\xfe not utf-8").decode(),
])
def test_huge_or_garbled_page_tokens_are_one_line_errors(h: History, token: str) -> None:
    h.apply([RunUpsert(pr(f"p{i}")) for i in range(3)])
    if token == "":  # no token: the first page
        assert len(h.list_results(page_token=token, limit=2).items) == 2
        return
    for listing in (h.list_results, h.list_records):
        with pytest.raises(PageTokenError) as err:
            listing(page_token=token, limit=2)
        assert isinstance(err.value, UserError) and isinstance(err.value, ValueError)
        assert "page token" in str(err.value) and len(str(err.value)) < 200


def test_a_name_order_token_carries_text_and_pages_on(h: History) -> None:
    h.apply([RunUpsert(pr(f"p{i}")) for i in range(5)])
    first = h.list_results(order="name", limit=2)
    second = h.list_results(order="name", page_token=first.next_token, limit=2)
    assert [r.display_name for r in first.items + second.items] == ["p0", "p1", "p2", "p3"]
    with pytest.raises(PageTokenError, match="another order"):
        h.list_results(order="newest", page_token=first.next_token)


def test_huge_page_sizes_prune_times_and_sequences_are_clamped_to_the_columns(h: History) -> None:
    p = pr("old")
    h.apply([RunUpsert(p), RunUpsert(tr("old-t", p))])
    assert len(h.list_results(limit=10**30).items) == 1
    assert len(h.list_records(limit=10**30).items) == 2
    assert h.changes_since(10**30).results == [] and h.changes_since(0, limit=10**30).seq == h.current_seq()
    assert h.prune(10**30, dry_run=True) == (1, 2)
    assert h.prune(-(10**30), dry_run=True) == (0, 0)
    assert h.prune(10**30) == (1, 2)


@pytest.mark.parametrize("rv", ["1234567890123456789012345678901234567890", "9223372036854775808", "9" * 5000,
                                "-99999999999999999999999"])
def test_an_out_of_range_resource_version_is_stored_as_zero_with_a_warning_not_aborting_the_batch(h: History, rv) -> None:
    big = pr("big-rv")
    big["metadata"]["resourceVersion"] = rv
    good = pr("good-rv", rv=7)
    res = h.apply([RunUpsert(big), RunUpsert(good), RunUpsert(tr("big-rv-t", big, rv=3))])
    assert res.skipped == [] and res.stored == 3
    assert any("resourceVersion" in w and "out of range" in w for w in res.warnings)
    assert h.find_runs("big-rv")[0].rv == 0 and h.find_runs("good-rv")[0].rv == 7
    # any real version replaces it
    big["metadata"]["resourceVersion"] = "12"
    big["status"]["conditions"][0]["reason"] = "Later"
    h.apply([RunUpsert(big)])
    row = h.find_runs("big-rv")[0]
    assert (row.rv, row.reason) == (12, "Later")
