"""A crash of the TUI: the terminal is restored, one line names the error and the log holding its
traceback, and the exit code says it failed (it used to be 0)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import hostile_corpus as hc
from clikit import run_on_a_terminal

ROOT = Path(__file__).resolve().parents[2]
_TERMINAL_RESET = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x07")

CRASHING_TUI = """
import sys
from tekton_results_tui.bootstrap import run_tui
from tekton_results_tui.settings import Settings
from tekton_results_tui.tui.app import ResultsApp

def compose(self):
    raise RuntimeError("boom \\x1b]0;pwned\\x07")

ResultsApp.compose = compose  # a bug in the app, as the user would meet it
sys.exit(run_tui(Settings.of(read_only=True, db_url=sys.argv[1])))
"""


def test_a_crash_restores_the_terminal_says_one_line_with_the_log_and_exits_non_zero(tmp_path) -> None:
    url = "sqlite:///" + str(tmp_path / "h.db")
    good = hc.write_dumps(tmp_path / "dumps", huge=False)[-1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(tmp_path / "data"), "TERM": "xterm"}
    assert subprocess.run([sys.executable, "-m", "tekton_results_tui", "import", str(good), "--db", url],
                          env=env, cwd=ROOT, capture_output=True).returncode == 0
    ran = run_on_a_terminal([sys.executable, "-c", CRASHING_TUI, url], env, terminal_stdin=True)
    rc, out = ran.returncode, ran.stdout
    assert rc == 3, out
    text = out.decode("utf-8", "replace").replace("\r\n", "\n")
    # the alternate screen was left before the line was printed, and nothing but the line follows
    assert "\x1b[?1049l" in text
    after = _TERMINAL_RESET.sub("", text.rsplit("\x1b[?1049l", 1)[1])  # the driver's own mode resets
    tail = [line for line in after.splitlines() if line.strip()]
    assert len(tail) == 1, tail
    line = tail[0]
    logs = list((tmp_path / "data" / "tekton-results-tui" / "crashes").glob("*.log"))
    assert len(logs) == 1
    assert line == rf"tekton-results-tui: crashed: RuntimeError: boom \e]0;pwned\x07 (traceback in {logs[0]})"
    assert "RuntimeError" in logs[0].read_text() and "compose" in logs[0].read_text()
    assert "Traceback" not in text and "pwned\x07" not in text
