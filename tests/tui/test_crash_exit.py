"""A crash of the TUI on a real terminal: the terminal is restored, one line names the error and the log file
holding the traceback, and the process exits non-zero."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

from hostile_corpus import CONTROL_RE

from tekton_results_tui import exitcodes

from .conftest import write_fixed_db

TERMINAL_MODES = re.compile(r"\x1b\[[?<>=]?[0-9;]*[a-zA-Z]")  # CSI mode/cursor sequences (no OSC, no data)
# The app raises while it starts: a bug (not a user error), with markup and controls in its message.
CRASHING_TUI = r"""
import sys
from tekton_results_tui.cli import main
from tekton_results_tui.tui.app import ResultsApp

def crash(self):
    raise RuntimeError("boom [/x] \x1b]0;title\x07")

ResultsApp.on_mount = crash
sys.exit(main(sys.argv[1:]))
"""


def run_on_a_terminal(args: list[str], env: dict[str, str], timeout: float = 60.0) -> tuple[int, bytes]:
    """(exit code, everything written to the terminal) of `python -c CRASHING_TUI args` on a pty (Textual
    draws on stderr; the crash line goes there too)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    screen = bytearray()

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                return
            if not data:
                return
            screen.extend(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.Popen([sys.executable, "-c", CRASHING_TUI, *args], stdin=slave, stdout=slave,
                                stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    finally:
        reader.join(5)
        os.close(master)
    return proc.returncode, bytes(screen)


def test_a_crash_restores_the_terminal_prints_one_line_with_the_log_path_and_exits_non_zero(tmp_path: Path) -> None:
    db = write_fixed_db(tmp_path / "history.db")
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "TERM": "xterm-256color"}
    code, screen = run_on_a_terminal(["--read-only", "--db", f"sqlite:///{db}"], env)
    assert code == exitcodes.CRASH and code != 0, screen[-2000:]
    # the terminal is restored: the alternate screen was left, and only then the line was written
    assert b"\x1b[?1049h" in screen and b"\x1b[?1049l" in screen, screen[-2000:]
    after = screen[screen.rindex(b"\x1b[?1049l"):].decode("utf-8", "replace")
    after = TERMINAL_MODES.sub("", after)  # the modes Textual resets on its way out
    before, sep, rest = after.partition("tekton-results-tui: crashed: ")
    assert sep and not before.strip("\x07\r\n"), after  # nothing but Textual's bell before the line
    lines = [ln for ln in rest.splitlines() if ln.strip()]
    assert len(lines) == 1, after  # one line, no traceback on the screen
    line = sep + lines[0]
    assert line.startswith("tekton-results-tui: crashed: RuntimeError: boom [/x] \\e]0;title\\x07"), line
    assert not CONTROL_RE.search(line), line  # the error's text is shown, never obeyed
    m = re.search(r"(/\S+\.log)", line)
    assert m, line
    log = Path(m.group(1))
    assert log.is_file() and str(log).startswith(str(tmp_path))  # under the XDG directories of this run
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "boom" in text and "crash" in text  # the traceback names the failing code
