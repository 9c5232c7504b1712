"""Shared pieces of the CLI tests (a module of its own: `from conftest import` is ambiguous across test dirs)."""

from __future__ import annotations

import importlib.util
import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_make_dump() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_dump", ROOT / "scripts" / "make_dump.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


NOW = int(time.time())


def run_on_a_terminal(argv: list[str], env: dict[str, str] | None = None, *, terminal_stdin: bool = False,
                      terminal_stderr: bool = True) -> subprocess.CompletedProcess[bytes]:
    """argv with its stdout on a pseudo-terminal (so it knows it writes to a terminal, as for a person):
    its exit code, what it wrote there as stdout, and its stderr if that went to a pipe instead.
    stdin is the terminal too with terminal_stdin (the TUI reads keys), else empty. Fails if the
    terminal stays silent for 60 s."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=slave if terminal_stdin else subprocess.DEVNULL, stdout=slave,
                         stderr=slave if terminal_stderr else subprocess.PIPE, cwd=ROOT, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            p.kill()
            raise AssertionError("no output for 60 s: " + b"".join(chunks).decode(errors="replace"))
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    err = p.stderr.read() if p.stderr else b""
    return subprocess.CompletedProcess(argv, p.wait(timeout=60), b"".join(chunks), err)


class Cli:
    """Runs `tekton-results-tui --db URL ...` in-process; returns (exit code, stdout, stderr)."""

    def __init__(self, url: str, capsys: pytest.CaptureFixture) -> None:
        self.url = url
        self.capsys = capsys

    def __call__(self, *argv: str, db: bool = True) -> tuple[int, str, str]:
        from tekton_results_tui.cli import main

        self.capsys.readouterr()
        args = list(argv)
        if db:  # --db after the subcommand, as users type it
            args += ["--db", self.url]
        rc = main(args)
        out, err = self.capsys.readouterr()
        return rc, out, err

    def json(self, *argv: str) -> dict:
        rc, out, err = self(*argv, "-o", "json")
        assert rc == 0, err
        return json.loads(out)
