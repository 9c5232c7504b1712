"""Rendering for the CLI: kubectl-style tables and ages, JSON/YAML documents, safe log text."""

from __future__ import annotations

import functools
import json
import re
import sys
from typing import TYPE_CHECKING, Any, Sequence, TextIO

from tekton_results_tui.kubefmt import human_duration  # noqa: F401 - part of this module's API
from tekton_results_tui.textsafe import is_clean, visible

if TYPE_CHECKING:
    import yaml

# name: one Result/Record name per line, for scripts; wide: the table with CLUSTER and the full names
OUTPUT_FORMATS = ("table", "wide", "json", "yaml", "name")
TABLE_FORMATS = ("table", "wide")


def age(epoch: int | None, now: float) -> str:
    return "<unknown>" if epoch is None else human_duration(now - epoch)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO) -> None:
    """Columns padded like kubectl's tabwriter (3 spaces between columns); cells made printable."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], len(v))
    for row in [list(headers), *cells]:
        out.write("   ".join(v.ljust(widths[i]) for i, v in enumerate(row)).rstrip() + "\n")


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "<none>"
    if isinstance(value, bool):
        return "yes" if value else "no"
    # names come from the cluster or a dump: a control in one is shown, never obeyed
    return visible(str(value))


# What json.dumps leaves raw in its output but a terminal would obey or hide (it escapes C0 itself):
# DEL, C1, bidi and zero-width characters, separators, BOM, lone surrogates. They occur only inside
# strings, so a \uXXXX escape keeps the document equal when parsed.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")


def json_text(doc: Any, indent: int | None = 2) -> str:
    """`doc` as JSON that is safe on a terminal and still readable (other non-ASCII text stays as is)."""
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if is_clean(value, keep_newlines=True):
        return dumper.represent_str(value)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')


@functools.cache
def _terminal_safe_dumper() -> type[yaml.SafeDumper]:
    """The terminal-safe YAML dumper class, built when YAML is first written."""
    import yaml  # loaded when a command writes YAML: every start builds the parser, which imports this module

    class _TerminalSafeDumper(yaml.SafeDumper):
        """YAML whose strings with controls or invisible characters are double-quoted with escapes.

        PyYAML writes bidi overrides, zero-width characters and NEL as they are when unicode is allowed;
        such a string is written double-quoted with ASCII escapes instead (the same value when loaded).
        """

        def write_double_quoted(self, text: str, split: bool = True) -> None:
            if is_clean(text):
                return super().write_double_quoted(text, split)
            saved, self.allow_unicode = self.allow_unicode, False  # escape every non-ASCII character here
            try:
                return super().write_double_quoted(text, split)
            finally:
                self.allow_unicode = saved

    _TerminalSafeDumper.add_representer(str, _represent_str)
    return _TerminalSafeDumper


def yaml_text(doc: Any) -> str:
    import yaml

    return yaml.dump(doc, Dumper=_terminal_safe_dumper(), sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=1_000_000)


def emit_document(doc: Any, fmt: str, out: TextIO) -> None:
    """One JSON (indented, like kubectl) or YAML document; text from data in it never drives the terminal."""
    out.write(json_text(doc) + "\n" if fmt == "json" else yaml_text(doc))


# --- log text for a terminal ---------------------------------------------------------

# Escape sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL|ESC \), other ESC-x, and the
# 8-bit C1 forms. Only SGR (CSI ... m: colour, bold) reaches a terminal.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (titles, hyperlinks, clipboard)
    r"|\x9d[^\x07\x1b]*(?:\x07|\x1b\\)?"  # 8-bit OSC
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]"  # other ESC sequences (charset, keypad, reset)
    r"|\x1b"  # a lone ESC
)
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_OTHER_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f\x80-\x9f]")


def terminal_safe(text: str) -> str:
    """Log text fit for a terminal: SGR colour kept; every other escape and control removed.

    A bare carriage return (progress bars) becomes a newline so no line is hidden.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ESCAPES.sub(lambda m: m.group(0) if _SGR.fullmatch(m.group(0)) else "", text)
    return _OTHER_CONTROLS.sub("", text)


_SGR_SPLIT = re.compile(r"(\x1b\[[0-9;:]*m)")


def log_text_for_terminal(text: str) -> str:
    """A log body for a terminal: `terminal_safe` (only SGR kept, CR as a newline), tabs expanded, and
    what is left that could still mislead (bidi overrides, zero-width characters) shown as escapes."""
    parts = _SGR_SPLIT.split(terminal_safe(text).expandtabs(8))
    return "".join(p if i % 2 else visible(p, keep_newlines=True) for i, p in enumerate(parts))


def stdout_is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
