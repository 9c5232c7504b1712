"""Upstream's REST shapes read in both spellings, and what is not one of them."""

from __future__ import annotations

import base64
import json

import pytest

from tekton_results_tui.sources import wire
from tekton_results_tui.sources.wire import SourceError


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("text, ns", [
    ("2023-03-02T07:26:59.012643Z", 1677742019012643000),
    ("2023-03-02T07:26:59Z", 1677742019000000000),
    ("2023-03-02T07:26:59.123456789Z", 1677742019123456789),
    ("2023-03-02T09:26:59.5+02:00", 1677742019500000000),
    ("not a time", None), (None, None), ("2023-13-02T07:26:59Z", None),
])
def test_timestamps(text, ns):
    assert wire.timestamp_ns(text) == ns
    if ns is not None:
        assert wire.timestamp_ns(wire.format_ns(ns)) == ns


def record_json(spelling: str, **over) -> dict:
    r = {"name": "ci/results/r1/records/u1", "id": "x", "uid": "x",
         "data": {"type": "tekton.dev/v1.TaskRun", "value": b64('{"kind": "TaskRun"}')}, "etag": "x-1"}
    r.update({"update_time": "2023-03-02T07:26:59.012643Z"} if spelling == "snake"
             else {"updateTime": "2023-03-02T07:26:59.012643Z"})
    r.update(over)
    return r


@pytest.mark.parametrize("spelling, token_key", [("snake", "next_page_token"), ("camel", "nextPageToken")])
def test_a_page_in_either_spelling(spelling, token_key):
    body = json.dumps({"records": [record_json(spelling)], token_key: "abc"}).encode()
    page = wire.record_page(body)
    assert page.next_page_token == "abc" and page.bad == []
    (r,) = page.records
    assert (r.name, r.type, r.value, r.updated_ns, r.etag) == (
        "ci/results/r1/records/u1", "tekton.dev/v1.TaskRun", b'{"kind": "TaskRun"}', 1677742019012643000, "x-1")
    assert (r.result_name, r.record_id) == ("ci/results/r1", "u1")


def test_the_deprecated_updated_time_alone_and_an_empty_page():
    r = record_json("snake")
    del r["update_time"]
    r["updatedTime"] = "2023-03-02T07:26:59Z"
    assert wire.record_page(json.dumps({"records": [r]}).encode()).records[0].updated_ns == 1677742019000000000
    assert wire.record_page(b"{}").records == []
    assert wire.record_page(b'{"records": [], "next_page_token": ""}').next_page_token == ""


@pytest.mark.parametrize("body, says", [
    (b"<html>nope</html>", "not JSON (starting '<html>nope</html>')"),
    (b"", "not JSON (an empty body)"),
    (b"[]", "expected a JSON object, got list"),
    (b'{"records": {}}', "'records' is dict, not a list"),
    (b'{"records": [], "next_page_token": 5}', "'next_page_token' is int, not a string"),
    (b'{"results": []}', "not a ListRecords response (keys: results)"),
])
def test_what_is_not_a_page(body, says):
    with pytest.raises(SourceError, match=None) as e:
        wire.record_page(body)
    assert says in str(e.value)


def test_records_that_cannot_be_read_are_named_the_rest_kept():
    good = record_json("snake")
    page = wire.record_page(json.dumps({"records": [
        good, 7, {"name": "no-slashes"}, record_json("snake", data={"type": "t"} | {"value": "@@"}),
        record_json("snake", data="x"),
    ]}).encode())
    assert len(page.records) == 1
    assert page.bad == ["a int where a Record was expected",
                        "a Record without a '<parent>/results/<id>/records/<id>' name ('no-slashes')",
                        "ci/results/r1/records/u1: data.value is not base64", "ci/results/r1/records/u1: no data.type"]


def test_log_content_from_upstream_chunks_or_plain_text():
    chunks = [{"result": {"name": "n", "data": b64(part)}} for part in ("[a] one\n", "[a] two\n")]
    back_to_back = "".join(json.dumps(c) for c in chunks).encode()
    lines = "\n".join(json.dumps(c) for c in chunks).encode() + b"\n"
    assert wire.log_content(back_to_back, "application/json") == b"[a] one\n[a] two\n"
    assert wire.log_content(lines, "application/json") == b"[a] one\n[a] two\n"
    assert wire.log_content(b'{"x": 1}{"y"', "text/plain; charset=utf-8") == b'{"x": 1}{"y"'
    with pytest.raises(SourceError, match="the server's stream failed: boom"):
        wire.log_content(back_to_back + b'{"error": {"code": 2, "message": "boom"}}', "application/json")
    with pytest.raises(SourceError, match="not a stream of JSON objects"):
        wire.log_content(back_to_back + b'{"result": {', "application/json")
    assert wire.log_content(back_to_back + b'{"result": {', "application/json", cut=True) == b"[a] one\n[a] two\n"


def test_error_messages_of_the_gateway():
    assert wire.error_message(b'{"code": 3, "message": "invalid filter"}') == "invalid filter"
    assert wire.error_message(b"<html>\n<h1>502</h1>") == "<html>"


@pytest.mark.parametrize("text", [
    '{"a": 123456789012345678901234567890, "b": [-99999999999999999999999]}',  # past 64 bits: exact ints
    '{"a": 1e999}', '{"s": "\\ud800"}', '{"a": 1, "a": 2}', '{"n": 18446744073709551615, "f": 0.30000000000000004}',
    '{"deep": ' + "[" * 200 + "]" * 200 + "}",
])
def test_a_record_parses_exactly_as_json_parses_it(text):
    """orjson first (speed), json for what it refuses or would change: the same object, ints kept exact."""
    from tekton_results_tui.sources.records import _DECODER, decode_json

    r = wire.SourceRecord("ns/results/r/records/x", "tekton.dev/v1.TaskRun", text.encode(), 0, "")
    got_text, got = decode_json(r)
    assert got_text == text
    want = _DECODER.decode(text)
    assert repr(got) == repr(want)  # repr: an int is not a float of the same value, and nan-free


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', '{"a": -Infinity}'])
def test_a_record_with_nan_is_refused_as_before(text):
    from tekton_results_tui.sources.records import decode_json

    with pytest.raises(ValueError, match="is not JSON"):
        decode_json(wire.SourceRecord("n", "t", text.encode(), 0, ""))
