"""One rule for text from data on a terminal: controls are shown, never obeyed.

Every string that came from a cluster, a dump, a database or a log passes through `visible`
before any output that is not a log body — TUI labels, tables, notifications, dialogs, the
CLI's table/name/wide/yaml/json output and its error lines. C0 and C1 controls, DEL, bidi
overrides/isolates and zero-width characters are written as visible escapes (`\\e`, `\\x07`,
`\\u202e`), so a hostile run name can neither retitle the terminal, write the clipboard, clear
the screen nor make text read backwards — and the reader still sees that something is there.
Lone surrogates (which no terminal encoding can carry) become `\\udc80`-style escapes too.

Pure: no imports beyond the standard library, so the store, the CLI and the TUI share it.
(Log bodies keep SGR colour: `tui/text_safety.py` handles those.)
"""

from __future__ import annotations

import re

_NAMED = {"\x1b": "\\e", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\x00": "\\0"}
# C0 (all but nothing), DEL, C1, bidi embeddings/overrides/isolates, zero-width and other invisible
# format characters, line/paragraph separators, BOM, lone surrogates.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)
_UNSAFE_KEEP_NEWLINE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object, keep_newlines: bool = False) -> str:
    """`text` with every control/invisible character written as a visible escape.

    Not a sanitiser that hides things: `build\\x1b]0;pwned\\x07` shows as `build\\e]0;pwned\\x07`.
    `keep_newlines` keeps `\\n` for multi-line displays (YAML, messages); everything else is escaped.
    """
    s = text if isinstance(text, str) else str(text)
    pattern = _UNSAFE_KEEP_NEWLINE if keep_newlines else _UNSAFE
    if pattern.search(s) is None:  # the usual case: nothing to do, no copy
        return s
    return pattern.sub(_escape, s)


def is_clean(text: str, keep_newlines: bool = False) -> bool:
    """True when `visible(text)` would change nothing."""
    return (_UNSAFE_KEEP_NEWLINE if keep_newlines else _UNSAFE).search(text) is None
