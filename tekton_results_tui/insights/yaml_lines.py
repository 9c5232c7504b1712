"""Stored run objects (JSON-shaped: dicts, lists, strings, numbers, booleans, null) as block YAML lines, fast.

A diff screen dumps two whole runs before it can show anything; PyYAML (even with libyaml) spends
~40-70 ms per 2,700-line PipelineRun building its node graph in Python, most of the diff's budget.
Objects read from JSON need none of that generality, so this writes the lines directly (~10x less).
The style is kubectl's: keys sorted, two-space indent, list items at their key's indent, multi-line
strings (scripts) as literal blocks so a diff shows the script line that changed. A string is written
plain only when it cannot be read back as anything else (a conservative rule), else double-quoted
with JSON's escapes, which YAML reads the same. `yaml.safe_load` of the text gives the object back.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@+=()-]*(?:[ :][A-Za-z0-9_./@+=()-]+)*\Z")
_RESERVED = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})
# What a literal block cannot carry as written: controls other than tab and newline, line separators, BOM.
_NOT_LITERAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")
# What JSON leaves raw but YAML reads as a line break or refuses as unprintable: escaped in a quoted string.
_ESCAPE_MORE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def _quoted(s: str) -> str:
    text = json.dumps(s, ensure_ascii=False)
    return _ESCAPE_MORE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) if _ESCAPE_MORE.search(text) else text


def _scalar(v: Any) -> str:
    if isinstance(v, str):
        if _PLAIN.match(v) and v.lower() not in _RESERVED and ": " not in v:
            return v
        return _quoted(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        r = repr(v)
        return r.replace("e", ".0e") if "e" in r and "." not in r else r  # YAML 1.1 floats need a dot
    if isinstance(v, int):
        return str(v)
    return _quoted(str(v))


def _literal(v: Any) -> bool:
    return (isinstance(v, str) and "\n" in v and not v.startswith((" ", "\n", "\t"))
            and _NOT_LITERAL.search(v) is None)


def _emit_literal(head: str, s: str, pad: str, out: list[str]) -> None:
    body = s.rstrip("\n")
    trailing = len(s) - len(body)
    chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
    out.append(f"{head}|{chomp}")
    out.extend(f"{pad}{line}" if line else "" for line in body.split("\n"))
    if trailing > 1:
        out.extend("" for _ in range(trailing - 1))


def _emit_value(head: str, v: Any, indent: int, out: list[str], in_list: bool = False) -> None:
    """`head` is `pad + "key:"` or `pad + "-"`; the value goes after it or on the lines below."""
    if isinstance(v, dict) and v:
        if in_list:  # the mapping's first key shares the dash's line
            start = len(out)
            _emit_mapping(v, indent + 2, out)
            out[start] = head + " " + out[start][indent + 2:]
        else:
            out.append(head)
            _emit_mapping(v, indent + 2, out)
    elif isinstance(v, list) and v:
        out.append(head)
        _emit_sequence(v, indent + 2 if in_list else indent, out)
    elif isinstance(v, dict):
        out.append(head + " {}")
    elif isinstance(v, list):
        out.append(head + " []")
    elif _literal(v):
        _emit_literal(head + " ", v, " " * (indent + 2), out)
    else:
        out.append(f"{head} {_scalar(v)}")


def _emit_mapping(d: dict, indent: int, out: list[str]) -> None:
    pad = " " * indent
    for k in sorted(d, key=str):
        _emit_value(f"{pad}{_scalar(k if isinstance(k, str) else str(k))}:", d[k], indent, out)


def _emit_sequence(items: list, indent: int, out: list[str]) -> None:
    pad = " " * indent
    for item in items:
        _emit_value(pad + "-", item, indent, out, in_list=True)


def yaml_lines(obj: Any) -> list[str]:
    """`obj` as block YAML, one string per line (no newlines)."""
    out: list[str] = []
    if isinstance(obj, dict) and obj:
        _emit_mapping(obj, 0, out)
    elif isinstance(obj, list) and obj:
        _emit_sequence(obj, 0, out)
    elif _literal(obj):
        _emit_literal("", obj, "  ", out)
    else:
        out.append(_scalar(obj) if not isinstance(obj, (dict, list)) else ("{}" if isinstance(obj, dict) else "[]"))
    return out
