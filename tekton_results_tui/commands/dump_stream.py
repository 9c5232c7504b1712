"""Reading a kubectl dump one run at a time, and classifying each run for the store.

`read_runs` streams a JSON dump (only the object being handled is held parsed, never the whole
List) and falls back to dumpfile.read_dump for YAML. `classified_runs` turns what it finds into
the store's ClassifiedRun changes (the compact JSON text plus grouping.classify's index columns)
or Problems naming what cannot be stored. The import runs this in a reader process for big dumps
(commands/import_worker.py), in-process otherwise; the output is the same either way.
"""

from __future__ import annotations

import json
import re
from typing import Any, BinaryIO, Iterable, Iterator

from tekton_results_tui.commands import limits
from tekton_results_tui.commands.apivalidation import metadata_problem
from tekton_results_tui.commands.dumpfile import NOT_A_RUN, RUN_KINDS, Problem, describe, read_dump
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.history import ClassifiedRun


def decode_dump(data: bytes) -> str:
    """A dump's bytes as text, newlines normalized as a text-mode read does."""
    text = data.decode("utf-8", errors="strict")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def read_dump_bytes(fh: BinaryIO) -> bytes:
    """All of a dump's bytes, refusing (DumpReadError) binary data and more than limits.MAX_FILE_BYTES.

    Read a chunk at a time so `/dev/zero` or `yes |` ends with an error instead of filling memory:
    no YAML or JSON text holds a NUL byte (JSON escapes it, YAML forbids it).
    """
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = fh.read(limits.READ_CHUNK)
        if not chunk:
            break
        at = chunk.find(b"\0")
        if at >= 0:
            raise limits.DumpReadError(f"not a YAML or JSON text dump (a NUL byte at offset {total + at}: "
                                       "binary data, or UTF-16 text?)")
        total += len(chunk)
        if total > limits.MAX_FILE_BYTES:
            raise limits.DumpReadError(f"more than {limits.MAX_FILE_BYTES // limits.MIB} MiB: split the dump "
                                       "into smaller files")
        chunks.append(chunk)
    return b"".join(chunks)


def read_dump_file(path: str) -> str:
    with open(path, "rb") as fh:  # bytes, decoded at once: half the time of a text-mode read of a big dump
        return decode_dump(read_dump_bytes(fh))


# --- reading dumps one object at a time ------------------------------------------------

Found = tuple[dict, "str | None"]  # a run object and its compact JSON text when the dump already holds it



class _Decoder(json.JSONDecoder):
    """Python's decoder, noting whether the last value held NaN/Infinity (not JSON: its text is not storable)."""

    def __init__(self) -> None:
        super().__init__(parse_constant=self._constant)
        self.saw_constant = False

    def _constant(self, name: str) -> float:
        self.saw_constant = True
        return float(name.replace("Infinity", "inf"))


_WS = re.compile(r"[ \t\n\r]*")
_WS_CHARS = frozenset(" \t\n\r")


class _NotJson(Exception):
    """The text failed to parse as JSON before anything was read from it: try YAML instead."""


def _ws(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]


def _is_list_kind(kind: Any) -> bool:
    return isinstance(kind, str) and (kind == "List" or kind.endswith("List"))


def _walk(obj: Any, where: str, raw: str | None = None) -> Iterator[Found | Problem]:
    """As dumpfile's walk: unwrap Lists, keep run-kind mappings, name everything else."""
    if obj is None:
        return
    if isinstance(obj, list):
        for i, item in enumerate(obj, 1):
            yield from _walk(item, f"item {i} of {where}")
        return
    if not isinstance(obj, dict):
        yield Problem(where, f"not a Kubernetes object but a {type(obj).__name__}")
        return
    kind = obj.get("kind")
    if _is_list_kind(kind) and "items" in obj:
        items = obj.get("items") or []
        if not isinstance(items, list):
            yield Problem(f"{kind} in {where}", f"items is a {type(items).__name__}, not a list")
            return
        for i, item in enumerate(items, 1):
            yield from _walk(item, f"item {i} of {where}")
        return
    if kind not in RUN_KINDS:
        yield Problem(describe(obj), f"kind {kind!r} {NOT_A_RUN} ({where})")
        return
    # a one-line slice of the dump is the object's JSON already; an indented one is re-serialized compact
    yield obj, (raw if raw is not None and "\n" not in raw else None)


def _array(text: str, i: int, where: str, out: list[int], dec: _Decoder) -> Iterator[Found | Problem]:
    """The elements of the JSON array at text[i] ('['), each parsed when reached; out[0] = end."""
    i = _ws(text, i + 1)
    n = 0
    if text.startswith("]", i):
        out[0] = i + 1
        return
    while True:
        start = i
        dec.saw_constant = False
        n += 1
        try:
            value, i = dec.raw_decode(text, i)
        except RecursionError:  # deeper than the decoder goes: skip it whole, read on
            i = skip_json_value(text, start)
            yield Problem(f"item {n} of {where}", limits.DEEP_REASON)
            i = _after_item(text, i, out)
            if i < 0:
                return
            continue
        if type(value) is dict and value.get("kind") in RUN_KINDS and not dec.saw_constant:  # the usual item
            raw = text[start:i]
            yield value, (raw if "\n" not in raw else None)
        else:
            yield from _walk(value, f"item {n} of {where}", raw=None if dec.saw_constant else text[start:i])
        del value
        i = _after_item(text, i, out)
        if i < 0:
            return


def _after_item(text: str, i: int, out: list[int]) -> int:
    """After an array item: the next item's start, or -1 at the closing `]` (out[0] = past it)."""
    c = text[i : i + 1]
    if c in _WS_CHARS:  # compact dumps have no whitespace here: skip the regex then
        i = _ws(text, i)
        c = text[i : i + 1]
    if c == "]":
        out[0] = i + 1
        return -1
    if c != ",":
        raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
    i += 1
    if text[i : i + 1] in _WS_CHARS:
        i = _ws(text, i)
    return i


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def skip_json_value(text: str, i: int) -> int:
    """The end of the JSON array/object starting at text[i], found without building it (for values
    too deep to decode); JSONDecodeError when it never closes."""
    depth = 0
    for m in _JSON_TOKEN.finditer(text, i):
        tok = m.group(0)
        if tok in "[{":
            depth += 1
        elif tok in "]}":
            depth -= 1
            if depth == 0:
                return m.end()
    raise json.JSONDecodeError("unterminated array or object", text, i)


def _stream_json(text: str, i: int, dec: _Decoder) -> Iterator[Found | Problem]:
    """A JSON dump's runs without building the whole document: a List's `items` are parsed one by one.

    A top-level object's `items` array is streamed unless a `kind` before it says it is not a List
    (kubectl writes `items` before `kind`); other members are parsed whole.
    """
    where = "the JSON document"
    end = [0]
    if text[i] == "[":
        yield from _array(text, i, where, end, dec)
        i = end[0]
    else:
        head: dict = {}
        streamed = False
        too_deep = False
        i = _ws(text, i + 1)
        if text.startswith("}", i):
            i += 1
        else:
            while True:
                if not text.startswith('"', i):
                    raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, i)
                key, i = dec.raw_decode(text, i)
                i = _ws(text, i)
                if not text.startswith(":", i):
                    raise json.JSONDecodeError("Expecting ':' delimiter", text, i)
                i = _ws(text, i + 1)
                if key == "items" and text.startswith("[", i) and ("kind" not in head or _is_list_kind(head["kind"])):
                    streamed = True
                    yield from _array(text, i, where, end, dec)
                    i = end[0]
                else:
                    try:
                        head[key], i = dec.raw_decode(text, i)
                    except RecursionError:
                        too_deep = True
                        head[key], i = None, skip_json_value(text, i)
                i = _ws(text, i)
                c = text[i : i + 1]
                if c == "}":
                    i += 1
                    break
                if c != ",":
                    raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
                i = _ws(text, i + 1)
        if too_deep:
            yield Problem(describe(head), limits.DEEP_REASON)
        elif not streamed:
            yield from _walk(head, where)
        elif "kind" in head and not _is_list_kind(head["kind"]):
            yield Problem(describe(head), f"kind {head['kind']!r} is not a List, but its items were read as a List's")
    if _ws(text, i) != len(text):
        raise json.JSONDecodeError("Extra data", text, _ws(text, i))


def read_runs(text: str) -> Iterator[Found | Problem]:
    """Every run object of a dump, one at a time, and a Problem for everything else.

    JSON (what `kubectl -o json` writes) is streamed: only the object being stored is held parsed,
    never the whole List. YAML goes through dumpfile.read_dump, which parses each document whole.
    A JSON error after runs were read ends the file with a Problem (the runs before it are stored).
    """
    i = _ws(text, 0)
    if text.startswith(("{", "["), i):
        got_any = False
        try:
            for f in _stream_json(text, i, _Decoder()):
                got_any = True
                yield f
            return
        except ValueError as exc:
            if got_any:
                err = exc if isinstance(exc, json.JSONDecodeError) else None
                at = f" (line {err.lineno}, column {err.colno})" if err else ""
                msg = err.msg if err else str(exc)
                yield Problem(f"the JSON document{at}", f"malformed JSON: {msg}; the rest of the file was not read")
                return
        # not one JSON value: maybe YAML (JSON is YAML), maybe broken JSON; fall through
    items, problems = read_dump(text)
    yield from problems
    for it in items:
        yield it.obj, None


# --- classifying -------------------------------------------------------------------------

def classified_runs(found: Iterable[Found | Problem]) -> Iterator[ClassifiedRun | Problem]:
    """Each run as the store's ClassifiedRun (its JSON text kept as found, or serialized once), else a Problem."""
    for f in found:
        if isinstance(f, Problem):
            yield f
            continue
        obj, raw = f
        why = metadata_problem(obj)
        if why is not None:
            yield Problem(describe(obj), why)
            continue
        if raw is None:
            try:  # serialized once here (the store keeps this text): YAML may hold what JSON cannot
                raw = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            except (TypeError, ValueError) as exc:
                yield Problem(describe(obj), f"not representable as JSON: {exc}")
                continue
            except RecursionError:
                yield Problem(describe(obj), limits.DEEP_REASON)
                continue
        if len(raw) > limits.MAX_OBJECT_BYTES:
            yield Problem(describe(obj), limits.size_reason(len(raw.encode("utf-8", "surrogatepass"))))
            continue
        if limits.may_be_too_deep(raw) and limits.too_deep(obj):
            yield Problem(describe(obj), limits.DEEP_REASON)
            continue
        try:
            info = g.classify(obj)
        except g.GroupingError as exc:
            yield Problem(describe(obj), str(exc))
            continue
        yield ClassifiedRun(info, raw)
