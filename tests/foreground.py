"""Start a program as a terminal's foreground job would be: SIGINT (Ctrl-C) at its default action.

A test run started in the background by a non-interactive shell (`bash .ci/run > log &`, nohup) has SIGINT
ignored; a child inherits that across exec and Python then installs no KeyboardInterrupt handler, so a
test's SIGINT would be ignored (a `sync` ran to the end and exited 0, a `serve` never stopped).
"""

from __future__ import annotations


def foreground(cmd: list[str]) -> list[str]:
    """cmd run with SIGINT reset to its default (coreutils env >= 8.31), the same process id."""
    return ["env", "--default-signal=INT", *cmd]
