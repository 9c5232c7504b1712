"""Label selectors in kubectl syntax as predicates on a labels dict (`--delete-selector`).

Pure (no kubernetes import): the CLI validates the flag with it before anything starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_LABEL_RE = re.compile(r"[A-Za-z0-9._/-]+")
_VALUE_RE = re.compile(r"[A-Za-z0-9._-]*")
_SET_RE = re.compile(r"^\s*([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_selector(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def parse_selector(text: str | None) -> Callable[[dict[str, str]], bool]:
    """A label selector as a predicate on a labels dict. Raises ValueError naming the bad term."""
    if not text or not text.strip():
        return lambda labels: True
    tests: list[Callable[[dict[str, str]], bool]] = []
    for term in _split_selector(text):
        m = _SET_RE.match(term)
        if m:
            key, op, vals = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            if op == "in":
                tests.append(lambda lb, k=key, vs=vals: lb.get(k) in vs)
            else:
                tests.append(lambda lb, k=key, vs=vals: lb.get(k) not in vs)
        elif "=" in term:
            neg = "!=" in term
            k, v = (x.strip() for x in (term.split("!=", 1) if neg else term.replace("==", "=").split("=", 1)))
            if not _LABEL_RE.fullmatch(k) or not _VALUE_RE.fullmatch(v):
                raise ValueError(f"bad label selector term {term!r} in {text!r}")
            if neg:
                tests.append(lambda lb, k=k, v=v: lb.get(k) != v)
            else:
                tests.append(lambda lb, k=k, v=v: lb.get(k) == v)
        elif term.startswith("!") and _LABEL_RE.fullmatch(term[1:].strip()):
            tests.append(lambda lb, k=term[1:].strip(): k not in lb)
        elif _LABEL_RE.fullmatch(term):
            tests.append(lambda lb, k=term: k in lb)
        else:
            raise ValueError(f"bad label selector term {term!r} in {text!r}")
    return lambda labels: all(t(labels) for t in tests)
