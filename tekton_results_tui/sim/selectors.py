"""Label and field selectors, parsed as apimachinery does (=, ==, !=, in, notin, exists, !key)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from tekton_results_tui.sim.errors import bad_request

Pred = Callable[[Mapping[str, str]], bool]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_SET = re.compile(rf"^\s*(!?)\s*({_KEY})\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EQ = re.compile(rf"^\s*({_KEY})\s*(==|!=|=)\s*([-A-Za-z0-9_.]*)\s*$")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")


def _split_terms(sel: str) -> list[str]:
    """Split on commas that are not inside a set's parentheses."""
    terms, depth, cur = [], 0, []
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    terms.append("".join(cur))
    return [t for t in terms if t.strip()]


def parse_label_selector(sel: str | None) -> Pred | None:
    """None for an empty selector; a predicate over labels otherwise; 400 on bad syntax."""
    if not sel or not sel.strip():
        return None
    preds: list[Pred] = []
    for term in _split_terms(sel):
        m = _SET.match(term)
        if m and not m.group(1):
            key, op = m.group(2), m.group(4)
            vals = frozenset(v.strip() for v in m.group(5).split(",") if v.strip())
            if op == "in":
                preds.append(lambda l, k=key, v=vals: l.get(k) in v)
            else:
                preds.append(lambda l, k=key, v=vals: l.get(k) not in v)
            continue
        m = _EQ.match(term)
        if m:
            key, op, val = m.group(1), m.group(3), m.group(4)
            if op == "!=":
                preds.append(lambda l, k=key, v=val: l.get(k) != v)
            else:
                preds.append(lambda l, k=key, v=val: l.get(k) == v)
            continue
        m = _EXISTS.match(term)
        if m:
            key = m.group(2)
            if m.group(1):
                preds.append(lambda l, k=key: k not in l)
            else:
                preds.append(lambda l, k=key: k in l)
            continue
        raise bad_request(f"unable to parse requirement: invalid label selector: {term.strip()!r}")
    return lambda labels: all(p(labels) for p in preds)


def parse_field_selector(sel: str | None, supported: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """field -> (op, value); only = / == / != on the fields the resource supports, as a CRD's are."""
    out: dict[str, tuple[str, str]] = {}
    if not sel or not sel.strip():
        return out
    for term in sel.split(","):
        term = term.strip()
        if not term:
            continue
        m = re.match(r"^([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)$", term)
        if not m:
            raise bad_request(f"invalid selector: '{sel}'; can't understand '{term}'")
        field, op, val = m.group(1), m.group(2), m.group(3)
        if field not in supported:
            raise bad_request(f'field label not supported: {field}')
        out[field] = ("!=" if op == "!=" else "=", val)
    return out


def field_match(fields: dict[str, tuple[str, str]], values: Mapping[str, str]) -> bool:
    for f, (op, v) in fields.items():
        have = values.get(f, "")
        if (have == v) != (op == "="):
            return False
    return True
