"""Make text from the cluster (logs, messages) safe to put on a terminal.

A step log is written by whatever ran in the pod. Shown raw, its escape sequences
could retitle the terminal (OSC 0/2), plant hyperlinks (OSC 8), write the clipboard
(OSC 52), move the cursor or clear the screen (CSI), switch modes (CSI ? h/l), send
device-control strings (DCS/APC/PM/SOS) or hide text (CR overwrite, backspaces,
SGR conceal, zero-width characters, bidi overrides). Only SGR colour and emphasis is worth keeping, so:

1. `sanitize` removes every escape/control sequence except 7-bit SGR (`ESC [ <digits;:> m`);
   a lone carriage return becomes a line break (nothing overwritten is hidden);
2. `ansi_lines` turns the result into `rich.text.Text` lines with `AnsiDecoder`, and
   drops the styles that hide or animate text (conceal, blink) and any link.

Textual then renders those styles itself; no byte of the log reaches the terminal as
a control code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rich.ansi import AnsiDecoder
from rich.style import Style
from rich.text import Span, Text

# One pass over everything that starts a control sequence, in priority order.
_SEQUENCE = re.compile(
    r"""
      (?P<csi>\x1b\[ (?P<params>[0-?]*) (?P<inter>[\ -/]*) (?P<final>[@-~]) )  # CSI ... final
    | \x1b\[ [0-?]* [\ -/]* (?=[^@-~]|$)                   # CSI cut short: drop what came
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) [^\n]*? (?:\x07|\x1b\\|\x9c|(?=\n)|$)
                                                            # OSC/DCS/SOS/PM/APC string to BEL/ST/eol
    | \x9b [0-?]* [\ -/]* [@-~]?                            # 8-bit CSI: never kept
    | \x1b [\ -/]* [0-~]                                    # other ESC sequences (charset, RIS, DECSC...)
    | \x1b                                                  # lone ESC
    | [\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]             # other C0 (incl. BEL, BS) and C1 controls
    | [\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]  # bidi marks/overrides/isolates (text that
                                                            # lies), zero-width and other invisible characters
    """,
    re.VERBOSE,
)
_SGR_PARAMS = re.compile(r"[0-9;:]*")


def _keep_sgr(m: re.Match[str]) -> str:
    if m.group("csi") and m.group("final") == "m" and not m.group("inter") and _SGR_PARAMS.fullmatch(m.group("params")):
        return m.group(0)
    return ""


def sanitize(text: str) -> str:
    """`text` with every control sequence but SGR removed; CR line endings/overwrites become newlines."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\t" in text:
        text = text.expandtabs(8)
    return _SEQUENCE.sub(_keep_sgr, text)


def decode(data: bytes | str) -> str:
    """Bytes from a pod log as text (invalid UTF-8 shown as U+FFFD, never an error)."""
    return data.decode("utf-8", errors="replace") if isinstance(data, (bytes, bytearray)) else data


def _safe_style(style: Style | str) -> Style | str:
    if isinstance(style, str):
        return style
    if style.conceal or style.blink or style.blink2 or style.link:
        return Style(color=style.color, bgcolor=style.bgcolor, bold=style.bold, dim=style.dim, italic=style.italic,
                     underline=style.underline, strike=style.strike, reverse=style.reverse, overline=style.overline)
    return style


def safe_text_line(line: str, decoder: AnsiDecoder | None = None) -> Text:
    """One already-sanitized line (may hold SGR) as Text without hiding/link styles."""
    if "\x1b" not in line and (decoder is None or not decoder.style):
        return Text(line)
    text = (decoder or AnsiDecoder()).decode_line(line)
    text.spans = [Span(s.start, s.end, _safe_style(s.style)) for s in text.spans]
    if text.style:
        text.style = _safe_style(text.style)
    return text


def ansi_lines(data: bytes | str) -> Iterator[Text]:
    """Log text -> safe `Text` lines; SGR state carries across lines as on a terminal."""
    text = sanitize(decode(data))
    if text.endswith("\n"):
        text = text[:-1]
    decoder = AnsiDecoder()
    for line in text.split("\n"):
        yield safe_text_line(line, decoder)


def safe_plain(text: str) -> str:
    """Text for one-line display (messages, names): no control sequences at all, newlines as spaces."""
    return re.sub(r"\x1b\[[0-9;:]*m", "", sanitize(text)).replace("\n", " ")
