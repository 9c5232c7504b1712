"""The unified / side-by-side YAML diff of two runs, for the Diff screen and `diff --yaml`.

Both runs are written as YAML by insights/yaml_lines.py (sorted keys, scripts as literal blocks) minus
what the system writes (diff.yaml_view), matched once with difflib; `YamlDiff.hunks` are the line
positions a screen jumps between with n/N.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Sequence

from tekton_results_tui.insights.diff import is_system_key
from tekton_results_tui.insights.yaml_lines import yaml_lines

Opcode = tuple[str, int, int, int, int]  # difflib's (tag, a from, a to, b from, b to)


@dataclass(frozen=True)
class SideRow:
    """One row of a side-by-side view: a line of A and/or of B (1-based numbers; None on the side without one)."""

    a_no: int | None
    a_text: str | None
    b_no: int | None
    b_text: str | None
    tag: str  # equal | replace | delete | insert


@dataclass(frozen=True)
class YamlDiff:
    """The two runs' YAML and how it differs: hunks of changed lines with `context` lines around them.

    `lines` is the unified form, without newlines: a line's first character says what it is — ` ` both,
    `-` only A, `+` only B, `@` a hunk header; the first two lines are the `---`/`+++` headers. `hunks`
    are the indexes of the `@@` lines (where `n`/`N` jump to). `side_by_side()` gives the same hunks as
    rows of A beside B, and `side_hunks()` where each starts.
    """

    a_lines: list[str]
    b_lines: list[str]
    groups: list[list[Opcode]]
    lines: list[str]
    hunks: list[int]

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    def side_by_side(self) -> list[SideRow]:
        rows: list[SideRow] = []
        for group in self.groups:
            for tag, i1, i2, j1, j2 in group:
                for k in range(max(i2 - i1, j2 - j1)):
                    i, j = i1 + k, j1 + k
                    a_in, b_in = i < i2, j < j2
                    rows.append(SideRow(i + 1 if a_in else None, self.a_lines[i] if a_in else None,
                                        j + 1 if b_in else None, self.b_lines[j] if b_in else None,
                                        tag if a_in and b_in else ("delete" if a_in else "insert")))
        return rows

    def side_hunks(self) -> list[int]:
        """Index in `side_by_side()` of each hunk's first row."""
        out, n = [], 0
        for group in self.groups:
            out.append(n)
            n += sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in group)
        return out


def _range(start: int, stop: int) -> str:
    """A unified diff's line range, as difflib and GNU diff write it."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def _unified(a: list[str], b: list[str], groups: list[list[Opcode]], a_label: str, b_label: str) -> list[str]:
    if not groups:
        return []
    out = [f"--- {a_label}", f"+++ {b_label}"]
    for group in groups:
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(" " + ln for ln in a[i1:i2])
                continue
            if tag in ("replace", "delete"):
                out.extend("-" + ln for ln in a[i1:i2])
            if tag in ("replace", "insert"):
                out.extend("+" + ln for ln in b[j1:j2])
    return out


def yaml_view(obj: dict) -> dict:
    """The object as the YAML diff shows it: without managedFields and the labels/annotations the system writes."""
    md = obj.get("metadata")
    meta = dict(md) if isinstance(md, dict) else {}
    meta.pop("managedFields", None)
    for key in ("labels", "annotations"):
        if isinstance(meta.get(key), dict):
            meta[key] = {k: v for k, v in meta[key].items() if not is_system_key(str(k))}
        elif key in meta:
            meta[key] = {}
    return {**obj, "metadata": meta}


def to_yaml_lines(obj: dict) -> list[str]:
    """Keys sorted, so two runs written in different key orders line up; scripts as literal blocks, so a
    changed script shows as its changed lines (insights/yaml_lines.py)."""
    return yaml_lines(yaml_view(obj))


def yaml_diff(a: dict, b: dict, a_label: str = "a", b_label: str = "b", context: int = 3) -> YamlDiff:
    """Both views of the diff from one line match (difflib's, as `diff -u` shows it)."""
    la, lb = to_yaml_lines(a), to_yaml_lines(b)
    groups = list(difflib.SequenceMatcher(None, la, lb).get_grouped_opcodes(context)) if la != lb else []
    lines = _unified(la, lb, groups, a_label, b_label)
    return YamlDiff(la, lb, groups, lines, [i for i, ln in enumerate(lines) if ln.startswith("@@")])
