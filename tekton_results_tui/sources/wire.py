"""Tekton Results v1alpha2 REST shapes, as servers answer them.

Servers since v0.15 answer with proto field names (`next_page_token`, `update_time`); older ones with
grpc-gateway's camelCase (`nextPageToken`, `updateTime`). Both are read here, and nothing else: a body
that is not one of these shapes is a `SourceError` naming what was wrong, never a half-read page.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson

from tekton_results_tui.errors import UserError


class SourceError(UserError):
    """The Results server could not be read (down, slow, refused, or answered something else)."""


def field(obj: dict, snake: str) -> Any:
    """`obj[snake]`, or its camelCase spelling (servers before v0.15)."""
    if snake in obj:
        return obj[snake]
    head, *rest = snake.split("_")
    return obj.get(head + "".join(w.title() for w in rest))


_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)$")


def timestamp_ns(text: Any) -> int | None:
    """A protobuf Timestamp in JSON (RFC 3339, up to nanoseconds) -> nanoseconds since the epoch."""
    if not isinstance(text, str):
        return None
    m = _RFC3339.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        offset = 0 if tz in ("Z", "z") else (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
        dt = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=timezone.utc)
    except ValueError:
        return None
    return (int(dt.timestamp()) - offset) * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


def format_ns(ns: int) -> str:
    """Nanoseconds since the epoch -> RFC 3339 in UTC, as CEL's `timestamp()` reads it."""
    secs, frac = divmod(ns, 1_000_000_000)
    text = datetime.fromtimestamp(secs, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{frac:09d}".rstrip("0") if frac else "") + "Z"


@dataclass(slots=True)
class SourceRecord:
    """One Record as the source serves it; `value` is the decoded data (the object's JSON text, as stored)."""

    name: str
    type: str
    value: bytes
    updated_ns: int  # update_time (0 when the server sent none)
    etag: str

    @property
    def result_name(self) -> str:
        return self.name.rsplit("/records/", 1)[0]

    @property
    def record_id(self) -> str:
        return self.name.rsplit("/", 1)[-1]


@dataclass(slots=True)
class RecordPage:
    records: list[SourceRecord]
    next_page_token: str
    bad: list[str]  # Records that could not be read (their name and why); the rest of the page is used
    server_now_ns: int | None = None  # the server's clock when it answered (its Date header)


def http_date_ns(value: str | None) -> int | None:
    """An HTTP `Date` header -> nanoseconds since the epoch (None when absent or unreadable)."""
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    try:
        return int(parsedate_to_datetime(value).timestamp()) * 1_000_000_000
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def parse_json(body: bytes, what: str) -> Any:
    try:
        return orjson.loads(body)  # a page of 1,000 Records: ~5 MB of JSON (json as the fallback, below)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        head = body[:60].decode("utf-8", "replace").strip().splitlines()
        raise SourceError(f"{what}: the server answered something that is not JSON"
                          + (f" (starting {head[0][:60]!r})" if head else " (an empty body)")) from None


def record_page(body: bytes) -> RecordPage:
    """A ListRecords response (either spelling); SourceError when the body is not one."""
    doc = parse_json(body, "list records")
    if not isinstance(doc, dict):
        raise SourceError(f"list records: expected a JSON object, got {type(doc).__name__}")
    records = doc.get("records", [])
    token = field(doc, "next_page_token")
    if records is None:
        records = []
    if not isinstance(records, list):
        raise SourceError(f"list records: 'records' is {type(records).__name__}, not a list")
    if token is None:
        token = ""
    if not isinstance(token, str):
        raise SourceError(f"list records: 'next_page_token' is {type(token).__name__}, not a string")
    if doc and not records and not token and not ({"records", "next_page_token", "nextPageToken"} & doc.keys()):
        raise SourceError(f"list records: not a ListRecords response (keys: {', '.join(sorted(doc)[:5])})")
    out, bad = [], []
    for item in records:
        got = record(item)
        if isinstance(got, str):
            bad.append(got)
        else:
            out.append(got)
    return RecordPage(out, token, bad)


def record(item: Any) -> SourceRecord | str:
    """One Record, or a line saying why it cannot be read."""
    if not isinstance(item, dict):
        return f"a {type(item).__name__} where a Record was expected"
    name = item.get("name")
    if not isinstance(name, str) or "/results/" not in name or "/records/" not in name:
        return f"a Record without a '<parent>/results/<id>/records/<id>' name ({str(name)[:80]!r})"
    data = item.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return f"{name}: no data.type"
    raw = data.get("value", "")
    if not isinstance(raw, str):
        return f"{name}: data.value is not a base64 string"
    try:
        value = base64.b64decode(raw, validate=True) if "-" not in raw and "_" not in raw else base64.urlsafe_b64decode(raw)
    except (binascii.Error, ValueError):
        return f"{name}: data.value is not base64"
    updated = timestamp_ns(field(item, "update_time")) or timestamp_ns(field(item, "updated_time")) or 0
    etag = item.get("etag")
    return SourceRecord(name, data["type"], value, updated, etag if isinstance(etag, str) else "")


def log_content(body: bytes, content_type: str, cut: bool = False) -> bytes:
    """A GetLog answer -> the log's bytes.

    Upstream's REST gateway streams the gRPC messages as JSON objects one after another
    (`{"result": {"name": ..., "data": "<base64 chunk>"}}`, possibly with no separator); a server that
    streams the log itself answers `text/plain`. An error object in the stream is a SourceError. A body
    `cut` at the size limit keeps the chunks before the one it cut.
    """
    if "json" not in content_type.lower():
        return body
    try:
        text = body.decode("utf-8", "ignore" if cut else "strict")
    except UnicodeDecodeError:
        raise SourceError("get log: a JSON answer that is not UTF-8") from None
    dec = json.JSONDecoder()
    pos, chunks = 0, []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos >= len(text):
            break
        try:
            obj, pos = dec.raw_decode(text, pos)
        except ValueError:
            if cut:
                break
            raise SourceError(f"get log: not a stream of JSON objects at byte {pos}") from None
        part = obj.get("result") if isinstance(obj, dict) else None
        if isinstance(obj, dict) and "error" in obj and part is None:
            err = obj["error"]
            msg = err.get("message") if isinstance(err, dict) else err
            raise SourceError(f"get log: the server's stream failed: {str(msg)[:200]}")
        if not isinstance(part, dict):
            raise SourceError("get log: a JSON answer without 'result' objects")
        data = part.get("data", "")
        if not isinstance(data, str):
            raise SourceError("get log: 'result.data' is not a base64 string")
        try:
            chunks.append(base64.b64decode(data))
        except (binascii.Error, ValueError):
            raise SourceError("get log: 'result.data' is not base64") from None
    return b"".join(chunks)


def error_message(body: bytes) -> str:
    """The message of a gRPC-gateway error body (`{"code": 3, "message": ...}`), else the body's first line."""
    try:
        doc = json.loads(body)
        if isinstance(doc, dict) and isinstance(doc.get("message"), str):
            return doc["message"][:300]
    except (ValueError, UnicodeDecodeError):
        pass
    lines = body[:300].decode("utf-8", "replace").strip().splitlines()
    return lines[0][:200] if lines else ""
