"""Escape sequences from logs cannot reach the terminal: only SGR colour survives.

Unit tests on `text_safety`, then the real pane: the strips it renders for an attack
log hold no control character and no link, and keep the SGR colours.
"""

from __future__ import annotations

import random
import re

import pytest
from rich.segment import Segment

from tekton_results_tui.tui.formatting import fmt_age, fmt_duration, fmt_time, status_icon
from tekton_results_tui.tui.text_safety import ansi_lines, safe_plain, sanitize

from .test_detail_data import SIZE, HostApp, fill, open_history, record_of, screen_text, settle

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # everything but \t \n... \x1b included
ONLY_SGR = re.compile(r"\x1b\[[0-9;:]*m")


@pytest.mark.parametrize("raw, expected", [
    ("\x1b[31mred\x1b[0m", "\x1b[31mred\x1b[0m"),  # SGR kept
    ("\x1b[38;2;255;0;0mrgb\x1b[m", "\x1b[38;2;255;0;0mrgb\x1b[m"),
    ("a\x1b]0;title\x07b", "ab"),  # OSC title, BEL-terminated
    ("a\x1b]2;title\x1b\\b", "ab"),  # OSC, ST-terminated
    ("\x1b]8;;https://x.example/\x1b\\link\x1b]8;;\x1b\\", "link"),  # hyperlink
    ("\x1b]52;c;cm0gLXJmIC8K\x07x", "x"),  # clipboard write
    ("a\x1b]0;unterminated\nb", "a\nb"),  # an unterminated OSC ends at the line
    ("\x1b[2J\x1b[H\x1b[3;4Hx\x1b[K", "x"),  # clears and cursor moves
    ("\x1b[?1049h\x1b[?25l\x1b[?2004hx", "x"),  # private mode sets
    ("\x1b[>4;1m\x1b[?1mx", "x"),  # private-marker "m" is not SGR
    ("\x1b[1 qx", "x"),  # CSI with an intermediate byte
    ("\x1bPq#0;2dcs\x1b\\x", "x"),  # DCS
    ("\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\x", "x"),  # APC, PM, SOS
    ("\x9b2J\x9d0;t\x9c\x90q\x9cx", "x"),  # 8-bit CSI/OSC/DCS
    ("\x1bc\x1b7\x1b8\x1b(0\x1b#8x", "x"),  # RIS, DECSC/DECRC, charset, DECALN
    ("a\x1b", "a"),  # lone ESC at the end
    ("a\x07b\x08c\x00d\x7fe", "abcde"),  # BEL, BS, NUL, DEL
    ("\u0085\u008dx", "x"),  # C1 as unicode code points
    ("safe\rEVIL", "safe\nEVIL"),  # CR overwrite: both shown
    ("win\r\nline", "win\nline"),
    ("\u202eevil\u202c", "evil"),  # bidi override
    ("tab\there", "tab     here"),
    ("build [linux] step [/x] ünï 🚀", "build [linux] step [/x] ünï 🚀"),  # not markup, not controls
])
def test_sanitize_keeps_only_sgr(raw: str, expected: str) -> None:
    assert sanitize(raw) == expected


def test_sanitize_random_bytes_leave_nothing_but_sgr() -> None:
    rnd = random.Random(5)
    alphabet = "\x1b[]P_^X;?0123456789mHJK\x07\x9b\x9c\x9d\\ab\r\n\x08\x00\x85"
    for _ in range(2000):
        s = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 40)))
        out = ONLY_SGR.sub("", sanitize(s))
        assert not CONTROL.search(out.replace("\n", "")), repr((s, out))


def test_ansi_lines_keep_colour_drop_conceal_and_links() -> None:
    lines = list(ansi_lines(b"\x1b[31mred\n still red\x1b[0m\x1b[8mhidden\x1b[0m\x1b]8;;http://e\x1b\\l\x1b]8;;\x1b\\\n"))
    assert [t.plain for t in lines] == ["red", " still redhiddenl"]
    assert lines[0].spans[0].style.color.number == 1  # SGR 31: red
    assert lines[1].spans[0].style.color is not None  # SGR state carries across lines
    for t in lines:
        for span in t.spans:
            assert not span.style.conceal and not span.style.link and not span.style.blink


def test_safe_plain_is_one_line_without_sgr() -> None:
    assert safe_plain("a\x1b[31mb\x1b[0m\nc\x1b]0;t\x07") == "ab c"


def test_invalid_utf8_is_replaced_not_an_error() -> None:
    assert [t.plain for t in ansi_lines(b"ok \xff\xfe end")] == ["ok \ufffd\ufffd end"]


def test_formatting_like_kubectl() -> None:
    assert [fmt_duration(s) for s in (None, 0, 45, 192, 3600, 3900, 90000)] == \
        ["-", "0s", "45s", "3m12s", "1h", "1h5m", "1d1h"]
    assert [fmt_age(1000 - d, 1000) for d in (5, 119, 180, 7200, 86400 * 4)] == ["5s", "119s", "3m", "2h", "4d"]
    assert fmt_age(None, 1) == "-" and fmt_time(0) == "1970-01-01 00:00:00Z"
    assert status_icon("SUCCESS", True).plain == "✔" and status_icon("FAILURE", False).plain == "✖"
    assert status_icon("UNKNOWN", True).plain == "●" and status_icon("UNKNOWN", False).plain == "?"
    assert str(status_icon("FAILURE", True).style) == "red"


def _segments(strips) -> list[Segment]:
    return [seg for strip in strips for seg in strip]


async def test_rendered_attack_log_has_only_styles_no_control_codes(sqlite_url: str) -> None:
    history = open_history(sqlite_url)
    data = fill(history)
    app = HostApp(history)
    async with app.run_test(size=SIZE) as pilot:
        app.pane.show_record(record_of(history, data.test))
        app.pane.switch_tab("logs")
        await settle(pilot)
        view = app.pane.views["logs"]
        # pick the "prepare" step (the attack log) via the select
        from textual.widgets import Select
        select = view.query_one("#log-step", Select)
        prepare = next(c.key for c in view.choices if c.step == "prepare")
        select.value = prepare
        await settle(pilot)
        lines = view.lines_view
        assert lines.plain_lines[:3] == ["red error and bold green", "click here please", "clipboard line"]
        assert "visible text" in lines.plain_lines and "OVERWRITE" in lines.plain_lines
        segments = _segments(lines.visible_strips())
        text = "".join(s.text for s in segments)
        assert "red error" in text and "after dcs after apc" in text
        for seg in segments:
            assert not CONTROL.search(seg.text), repr(seg.text)
            assert "\x1b" not in seg.text
            if seg.style is not None:
                assert not seg.style.link and not seg.style.conceal and not seg.style.blink
        red = [s for s in segments if s.text == "red error"]
        assert red and red[0].style.color is not None and red[0].style.color.number == 1
        green = [s for s in segments if s.text == "bold green"]
        assert green and green[0].style.bold
        # the whole screen the app would paint: no OSC/CSI other than what Textual emits for styles
        shot = screen_text(app)
        assert "pwned" not in shot and "evil.example" not in shot and "after dcs after apc" in shot


def test_yaml_of_hostile_strings_has_no_raw_controls() -> None:
    from tekton_results_tui.tui.widgets.yaml_view import highlight_yaml, to_yaml

    text = to_yaml({"metadata": {"annotations": {"a": "\x1b]0;title\x07", "b": "x\x9b2J", "c": "[/x] ü"}}})
    lines, plain, _ = highlight_yaml(text)
    assert "[/x] ü" in text
    for seg in (s for line in lines for s in line):
        assert not CONTROL.search(seg.text) and "\x1b" not in seg.text
    assert "".join(s.text for s in lines[2]) == plain[2]
