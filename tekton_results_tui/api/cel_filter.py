"""The CEL `filter` Results clients send, compiled to the store's filter tree (store/api_reads.py).

cel-python (`celpy`) parses; its Lark tree is walked here into comparisons on the fields the store
indexes. Nothing is evaluated per row: a construct that has no column behind it is a FilterError
naming it, which the API answers with 400 INVALID_ARGUMENT — never a scan, never a 500.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import lark
from celpy.celparser import CELParser, CELParseError
from celpy.evaluation import celstr

from tekton_results_tui import kinds
from tekton_results_tui.store.api_filter import (
    RECORD_FIELDS, RESULT_FIELDS, AllOf, AnyOf, Cond, Const, Negate, Node,
)

STATUS_NAMES = ("UNKNOWN", "SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED")
TYPE_CONSTANTS = {
    "PIPELINE_RUN": kinds.BY_NAME["PipelineRun"].record_types,
    "TASK_RUN": kinds.BY_NAME["TaskRun"].record_types,
}
MAX_FILTER = 8192  # characters: a filter is a query, not a document


class FilterError(ValueError):
    """A filter we cannot run: its message says which part and why."""


@dataclass(frozen=True)
class _Field:
    path: str
    key: str | None = None


@dataclass(frozen=True)
class _Duration:
    seconds: float


@dataclass(frozen=True)
class _Ident:
    name: str


_parser: CELParser | None = None


def _parse(text: str) -> lark.Tree:
    global _parser
    if _parser is None:
        _parser = CELParser()
    try:
        return _parser.parse(text)
    except CELParseError as exc:
        col = getattr(exc, "column", None)
        lines = str(exc).splitlines()
        if col is None and len(lines) > 1 and "^" in lines[1]:
            col = lines[1].index("^") + 1
        where = f" at column {col}" if col else ""
        raise FilterError(f"invalid CEL: syntax error{where} in {text[:200]!r}") from None
    except (lark.exceptions.LarkError, RecursionError) as exc:
        raise FilterError(f"invalid CEL: {type(exc).__name__}") from None


_GO_DURATION = re.compile(r"^(-?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$")
_DUR_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DUR_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(s: str) -> float:
    """A CEL/Go duration string ("5m", "1h30m", "2.5s") in seconds."""
    if not _GO_DURATION.match(s):
        raise FilterError(f"duration({s!r}): expected a duration such as \"5m\", \"1h30m\" or \"90s\"")
    total = sum(float(n) * _DUR_UNIT[u] for n, u in _DUR_PART.findall(s))
    if total > MAX_DURATION_S:  # Go's (and CEL's) duration is int64 nanoseconds
        raise FilterError(f"duration({s[:40]!r}) is longer than Go's limit (~292 years)")
    return -total if s.startswith("-") else total


MAX_DURATION_S = (2**63 - 1) / 1e9
INT64 = range(-(2**63), 2**63)  # CEL's int; the store's integer columns (SQLite cannot bind past it)


def _int64(v: int, tok: str) -> int:
    if v not in INT64:
        raise FilterError(f"integer {tok[:40]} is past the 64-bit range")
    return v


def parse_timestamp(s: str) -> int:
    """An RFC 3339 timestamp in epoch seconds (the store keeps Kubernetes' second precision)."""
    try:
        t = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise FilterError(f"timestamp({s!r}): expected RFC 3339, e.g. \"2024-01-31T12:00:00Z\"") from None
    if t.tzinfo is None:
        raise FilterError(f"timestamp({s!r}): RFC 3339 needs a time zone (Z or +hh:mm)")
    return math.floor(t.timestamp())


class _Compiler:
    def __init__(self, fields: dict[str, str], noun: str) -> None:
        self.fields = fields
        self.noun = noun
        self.roots = {f.split(".")[0].split("[")[0] for f in fields}

    def _supported(self) -> str:
        return ", ".join(sorted(f + ('["key"]' if k == "map" else "") for f, k in self.fields.items() if f != "duration"))

    # ---- boolean structure ----
    def expr(self, t: lark.Tree) -> Node:
        name = t.data
        kids = t.children
        if name == "expr":
            if len(kids) != 1:
                raise FilterError("unsupported CEL construct: the conditional operator ? :")
            return self.expr(kids[0])
        if name == "conditionalor":
            if len(kids) == 1:
                return self.expr(kids[0])
            return AnyOf(_items(AnyOf, self.expr(kids[0])) + _items(AnyOf, self.expr(kids[1])))
        if name == "conditionaland":
            if len(kids) == 1:
                return self.expr(kids[0])
            return AllOf(_items(AllOf, self.expr(kids[0])) + _items(AllOf, self.expr(kids[1])))
        if name == "relation":
            if len(kids) == 1:
                return self.truth(kids[0])
            op_tree, right = kids
            return self.relation(op_tree.data, op_tree.children[0], right)
        return self.truth(t)

    def truth(self, t: lark.Tree) -> Node:
        """An operand used as a condition: `!x`, `(x)`, `f.startsWith(s)`, `true`."""
        t = self._strip(t)
        if t.data == "unary" and len(t.children) == 2 and t.children[0].data == "unary_not":
            return Negate(self.truth(t.children[1]))
        if t.data == "unary" and len(t.children) == 2:
            raise FilterError("unsupported CEL construct: unary minus on a condition")
        if t.data == "paren_expr":
            return self.expr(t.children[0])
        if t.data in ("expr", "conditionalor", "conditionaland", "relation"):
            return self.expr(t)
        if t.data == "member_dot_arg":
            return self.method(t)
        if t.data == "ident" and str(t.children[0]) in self.fields:  # `filter=data_type`: a field, not a test
            raise FilterError(f"unsupported CEL construct: {self._describe(_Field(str(t.children[0])))} used as a "
                              "condition")
        v = self.value(t)
        if isinstance(v, bool):
            return Const(v)
        raise FilterError(f"unsupported CEL construct: {self._describe(v)} used as a condition")

    def _strip(self, t: lark.Tree) -> lark.Tree:
        """Down through the single-child wrappers (addition -> multiplication -> unary -> member -> primary)."""
        while (isinstance(t, lark.Tree) and t.data in ("addition", "multiplication", "unary", "member", "primary",
                                                       "relation", "conditionaland", "conditionalor", "expr")
               and len(t.children) == 1 and isinstance(t.children[0], lark.Tree)):
            t = t.children[0]
        return t

    # ---- comparisons ----
    _OPS = {"relation_eq": "==", "relation_ne": "!=", "relation_lt": "<", "relation_gt": ">", "relation_le": "<=",
            "relation_ge": ">=", "relation_in": "in"}
    _FLIP = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}

    def relation(self, rel: str, left_t: lark.Tree, right_t: lark.Tree) -> Node:
        op = self._OPS.get(rel)
        if op is None:
            raise FilterError(f"unsupported CEL operator {rel}")
        left, right = self.operand(left_t), self.operand(right_t)
        if op == "in":
            if not isinstance(left, _Field):
                raise FilterError("unsupported CEL construct: `in` needs a field on its left, e.g. "
                                  "data.metadata.name in [\"a\", \"b\"]")
            if not isinstance(right, list):
                raise FilterError("unsupported CEL construct: `in` needs a list literal on its right")
            return self.cond(left, "in", right)
        if isinstance(left, _Field) and not isinstance(right, _Field):
            return self.cond(left, op, right)
        if isinstance(right, _Field) and not isinstance(left, _Field):
            return self.cond(right, self._FLIP[op], left)
        if isinstance(left, _Field):
            raise FilterError(f"unsupported CEL construct: comparing two fields ({left.path} {op} {right.path})")
        raise FilterError("unsupported CEL construct: a comparison without a field")

    def operand(self, t: Any) -> Any:
        t = self._strip(t)
        if isinstance(t, lark.Tree) and t.data == "addition" and len(t.children) == 2 \
                and t.children[0].data == "addition_sub":
            a, b = self.operand(t.children[0].children[0]), self.operand(t.children[1])
            if (isinstance(a, _Field) and isinstance(b, _Field) and a.path == "data.status.completionTime"
                    and b.path == "data.status.startTime" and "duration" in self.fields):
                return _Field("duration")
            raise FilterError("unsupported CEL construct: subtraction (only data.status.completionTime - "
                              "data.status.startTime is supported)")
        if isinstance(t, lark.Tree) and t.data in ("addition", "multiplication"):
            raise FilterError(f"unsupported CEL construct: arithmetic ({self._op_name(t)})")
        if isinstance(t, lark.Tree) and t.data in ("member_dot", "member_index"):
            return self.field(t)
        if isinstance(t, lark.Tree) and t.data == "ident":
            name = str(t.children[0])
            if name in self.fields:
                return _Field(name)
            if name in self.roots:
                raise FilterError(f"unsupported field {name} on {self.noun} (supported: {self._supported()})")
            return self.value(t)
        if isinstance(t, lark.Tree) and t.data == "paren_expr":
            return self.operand(t.children[0])
        return self.value(t)

    def _op_name(self, t: lark.Tree) -> str:
        if t.children and isinstance(t.children[0], lark.Tree):
            return t.children[0].data.replace("addition_", "").replace("multiplication_", "")
        return t.data

    def field(self, t: lark.Tree) -> _Field:
        """A member chain -> a field path, with the map key of `x["k"]` set apart."""
        parts: list[str | int] = []  # names (str) from `.name`, indexes as written in `[...]`
        keys: list[bool] = []  # True where the part is a string index
        node = t
        while True:
            node = self._strip(node)
            if node.data == "member_dot":
                parts.append(str(node.children[1]))
                keys.append(False)
                node = node.children[0]
            elif node.data == "member_index":
                idx = self.value(node.children[1])
                if isinstance(idx, bool) or not isinstance(idx, (str, int)):
                    raise FilterError("unsupported CEL construct: an index that is not a string or integer literal")
                parts.append(idx)
                keys.append(isinstance(idx, str))
                node = node.children[0]
            elif node.data == "ident":
                parts.append(str(node.children[0]))
                keys.append(False)
                break
            else:
                raise FilterError(f"unsupported CEL construct: {node.data} in a field reference")
        parts.reverse()
        keys.reverse()

        def spell(ps: list[str | int], ks: list[bool]) -> str:
            out = ""
            for i, (p, k) in enumerate(zip(ps, ks)):
                if isinstance(p, int) or k:
                    out += f"[{p}]" if isinstance(p, int) else f'["{p}"]'
                else:
                    out += ("." if i else "") + p
            return out

        if keys[-1]:
            base = spell(parts[:-1], keys[:-1])
            if self.fields.get(base) == "map":
                return _Field(base, str(parts[-1]))
            raise FilterError(f"unsupported field {spell(parts, keys)} on {self.noun}")
        path = spell(parts, keys)
        if path in self.fields:
            return _Field(path)
        raise FilterError(f"unsupported field {path} on {self.noun} (supported: {self._supported()})")

    def value(self, t: Any) -> Any:
        t = self._strip(t)
        if isinstance(t, lark.Tree) and t.data == "literal":
            tok = t.children[0]
            typ = tok.type
            if typ == "STRING_LIT":
                return str(celstr(tok))
            if typ == "INT_LIT":
                return _int64(int(str(tok), 0), str(tok))
            if typ == "UINT_LIT":
                return _int64(int(str(tok).rstrip("uU"), 0), str(tok))
            if typ == "FLOAT_LIT":
                return float(str(tok))
            if typ == "BOOL_LIT":
                return str(tok) == "true"
            raise FilterError(f"unsupported CEL literal {str(tok)[:40]}")
        if isinstance(t, lark.Tree) and t.data == "list_lit":
            if not t.children:
                return []
            return [self.value(e) for e in t.children[0].children]
        if isinstance(t, lark.Tree) and t.data == "ident":
            name = str(t.children[0])
            if name in STATUS_NAMES or name in TYPE_CONSTANTS:
                return _Ident(name)
            if name in ("null",):
                raise FilterError("unsupported CEL construct: null")
            if name in self.roots:
                raise FilterError(f"unsupported field {name} on {self.noun} (supported: {self._supported()})")
            raise FilterError(f"unknown identifier {name} on {self.noun}")
        if isinstance(t, lark.Tree) and t.data == "ident_arg":
            fn = str(t.children[0])
            args = t.children[1].children if len(t.children) > 1 and t.children[1] is not None else []
            if fn in ("timestamp", "duration") and len(args) == 1:
                arg = self.value(args[0])
                if not isinstance(arg, str):
                    raise FilterError(f"{fn}() takes a string literal")
                return parse_timestamp(arg) if fn == "timestamp" else _Duration(parse_duration(arg))
            raise FilterError(f"unsupported CEL function {fn}()")
        if isinstance(t, lark.Tree) and t.data == "member_dot_arg":
            raise FilterError(f"unsupported CEL construct: .{t.children[1]}() used as a value")
        if isinstance(t, lark.Tree) and t.data in ("member_dot", "member_index"):
            return self.field(t)
        if isinstance(t, lark.Tree) and t.data == "map_lit":
            raise FilterError("unsupported CEL construct: a map literal")
        if isinstance(t, lark.Tree) and t.data == "unary":
            raise FilterError("unsupported CEL construct: unary operator on a value")
        raise FilterError(f"unsupported CEL construct: {getattr(t, 'data', t)}")

    def method(self, t: lark.Tree) -> Node:
        target, name = t.children[0], str(t.children[1])
        args = t.children[2].children if len(t.children) > 2 and t.children[2] is not None else []
        if name not in ("contains", "startsWith", "endsWith"):
            raise FilterError(f"unsupported CEL function .{name}()")
        if len(args) != 1:
            raise FilterError(f".{name}() takes one argument")
        f = self.operand(target)
        if not isinstance(f, _Field):
            raise FilterError(f"unsupported CEL construct: .{name}() on a value (call it on a field)")
        arg = self.value(args[0])
        if not isinstance(arg, str):
            raise FilterError(f".{name}() takes a string literal")
        kind = self.fields.get(f.path)
        if kind == "map" and f.key is None:
            if name != "contains":
                raise FilterError(f"unsupported CEL construct: .{name}() on the map {f.path}")
            return Cond(f.path, "has", arg)
        if kind not in ("str", "map"):
            raise FilterError(f"unsupported CEL construct: .{name}() on {f.path}, which is not a string")
        return Cond(f.path, name, arg, f.key)

    # ---- typing a comparison ----
    def cond(self, f: _Field, op: str, v: Any) -> Node:
        kind = self.fields[f.path]
        if kind == "map" and f.key is None:
            raise FilterError(f"unsupported CEL construct: {f.path} compared as a whole (use {f.path}[\"key\"])")
        values = v if op == "in" else [v]
        typed = [self.typed(f, kind, x, op) for x in values]
        if f.path in ("data_type", "summary.type"):  # PIPELINE_RUN/TASK_RUN stand for every version's type
            flat: list[str] = []
            for x in typed:
                flat.extend(x if isinstance(x, tuple) else [x])
            if op in ("==", "!=", "in") and (len(flat) > 1 or op == "in"):
                node: Node = Cond(f.path, "in", flat, f.key)
                return Negate(node) if op == "!=" else node
            if len(flat) != 1:
                raise FilterError(f"operator {op} with a type constant on {f.path}")
            return Cond(f.path, op, flat[0], f.key)
        return Cond(f.path, op, typed if op == "in" else typed[0], f.key)

    def typed(self, f: _Field, kind: str, x: Any, op: str) -> Any:
        name = f.path + (f'["{f.key}"]' if f.key is not None else "")
        if kind == "time":
            if isinstance(x, int) and not isinstance(x, bool):
                return x
            raise FilterError(f"compare {name} with timestamp(\"...\"), not {self._describe(x)}")
        if kind == "int":
            if isinstance(x, _Duration):
                return x.seconds
            raise FilterError(f"compare {name} with duration(\"...\"), not {self._describe(x)}")
        if kind == "status":
            if isinstance(x, _Ident) and x.name in STATUS_NAMES:
                return x.name
            if isinstance(x, str) and x in STATUS_NAMES:
                return x
            if isinstance(x, int) and not isinstance(x, bool) and 0 <= x < len(STATUS_NAMES):
                return STATUS_NAMES[x]
            raise FilterError(f"{name} takes one of {', '.join(STATUS_NAMES)}, not {self._describe(x)}")
        if f.path in ("data_type", "summary.type"):  # upstream's docs quote the constants too
            if isinstance(x, _Ident) and x.name in TYPE_CONSTANTS:
                return TYPE_CONSTANTS[x.name]
            if isinstance(x, str) and x in TYPE_CONSTANTS:
                return TYPE_CONSTANTS[x]
        if isinstance(x, str):
            return x
        raise FilterError(f"compare {name} with a string, not {self._describe(x)}")

    @staticmethod
    def _describe(x: Any) -> str:
        if isinstance(x, _Ident):
            return x.name
        if isinstance(x, _Duration):
            return "a duration"
        if isinstance(x, _Field):
            return x.path
        if isinstance(x, bool):
            return "a boolean"
        if isinstance(x, (int, float)):
            return "a number"
        if isinstance(x, list):
            return "a list"
        return type(x).__name__


def _items(kind: type[AnyOf] | type[AllOf], node: Node) -> tuple[Node, ...]:
    """`a || b || c` parses as ((a || b) || c): one AnyOf of three (the store joins a flat list as a balanced
    tree; nested pairs gave SQL as deep as the chain, and 180 terms overflowed SQLite's parser)."""
    return node.items if isinstance(node, kind) else (node,)


def compile_filter(text: str, on: str) -> Node:
    """CEL text -> a filter tree over Results (`on="results"`) or Records. Empty text matches all."""
    text = (text or "").strip()
    if not text:
        return Const(True)
    if len(text) > MAX_FILTER:
        raise FilterError(f"filter is {len(text)} characters; at most {MAX_FILTER}")
    if len(text) > MAX_CACHED_FILTER:  # a tree holds ~12x its text: long ones would make the cache ~100 MB
        return _compiled.__wrapped__(text, on)
    return _compiled(text, on)


MAX_CACHED_FILTER = 1024  # characters: longer filters are compiled each time (1,024 cached: ~12 MB at most)


@lru_cache(maxsize=1024)
def _compiled(text: str, on: str) -> Node:
    """Clients repeat a few filters (a dashboard's, each page of a listing): parsing one took ~1 ms of
    a label-filter page's ~3; the trees are immutable, so a compiled one is shared. A filter that
    fails raises each time (exceptions are not cached). Only filters up to MAX_CACHED_FILTER
    characters come here."""
    fields, noun = (RESULT_FIELDS, "Results") if on == "results" else (RECORD_FIELDS, "Records")
    fields = {k: v for k, v in fields.items() if k != "duration"} | ({"duration": "int"} if on != "results" else {})
    try:
        return _Compiler(fields, noun).expr(_parse(text))
    except RecursionError:
        raise FilterError("filter is nested too deeply") from None
