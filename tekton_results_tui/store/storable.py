"""Strings a database cannot hold, and what the store keeps instead.

PostgreSQL refuses the NUL character (U+0000) in text and JSONB; neither engine can encode a lone
surrogate (U+D800-U+DFFF: half of a UTF-16 pair, e.g. from a dump's `"\\ud800"` escape or an
undecodable byte) as UTF-8. A run carrying one would be refused, and with it the whole batch. So
every run, log and event is stored under one rule, the same on both engines:

    NUL is stored as U+2400 SYMBOL FOR NULL (␀); a lone surrogate as U+FFFD REPLACEMENT CHARACTER (�)

in every string of the object — keys and values — and in the columns derived from it. The run's
Result gets a warning naming the fields that were changed. Filter values follow the same rule, so
`name:a␀b` finds what was sent as `a\\0b`. The check is one scan of the object's JSON text (which
shows NUL as `\\u0000`); only an object that trips it is parsed and rewritten.
"""

from __future__ import annotations

import re
from typing import Any

NUL_STAND_IN = "\u2400"
SURROGATE_STAND_IN = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# in JSON text: a NUL or surrogate escape (a valid pair trips it too; the parsed object is then clean),
# or the character itself
_SUSPECT = re.compile(r"\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2}|[\x00\ud800-\udfff]")
MAX_NAMED_FIELDS = 5


def _stand_in(m: re.Match) -> str:
    return NUL_STAND_IN if m.group() == "\x00" else SURROGATE_STAND_IN


def storable_text(s: str) -> str:
    """`s` with NUL and lone surrogates replaced by their stand-ins (the same string when it has none)."""
    return _UNSTORABLE.sub(_stand_in, s) if _UNSTORABLE.search(s) else s


def suspect(raw: str) -> bool:
    """Whether an object's JSON text may carry a string a database cannot hold (cheap; may say yes wrongly)."""
    if raw.isascii() and "\\u" not in raw:
        return False
    return _SUSPECT.search(raw) is not None


def make_storable(value: Any) -> tuple[Any, list[str]]:
    """(a copy of `value` with every string storable, the paths of the strings that changed).

    Walks without recursion: an object nested thousands deep is rewritten like any other.
    """
    changed: list[str] = []

    def fix(s: str, path: str) -> str:
        t = storable_text(s)
        if t is not s:
            changed.append(path)
        return t

    if isinstance(value, str):
        return fix(value, "(value)"), changed
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, str]] = [(root, 0, "")]
    while stack:
        parent, key, path = stack.pop()
        node = parent[key]
        if isinstance(node, dict):
            out: dict = {}
            for k, v in node.items():
                sk = storable_text(k) if isinstance(k, str) else k
                p = f"{path}.{sk}".lstrip(".")
                if sk is not k:
                    changed.append(p)
                out[sk] = v
                if isinstance(v, str):
                    out[sk] = fix(v, p)
                elif isinstance(v, (dict, list)):
                    stack.append((out, sk, p))
            parent[key] = out
        elif isinstance(node, list):
            out_l = list(node)
            for i, v in enumerate(out_l):
                p = f"{path}[{i}]"
                if isinstance(v, str):
                    out_l[i] = fix(v, p)
                elif isinstance(v, (dict, list)):
                    stack.append((out_l, i, p))
            parent[key] = out_l
    return root[0], changed


def warning_for(who: str, changed: list[str]) -> str:
    shown = ", ".join(storable_text(p)[:80] for p in changed[:MAX_NAMED_FIELDS])
    more = f" and {len(changed) - MAX_NAMED_FIELDS} more" if len(changed) > MAX_NAMED_FIELDS else ""
    return (f"{who}: {len(changed)} string(s) held characters a database cannot store, kept with NUL as "
            f"{NUL_STAND_IN} and lone surrogates as {SURROGATE_STAND_IN}: {shown}{more}")
