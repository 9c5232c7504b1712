"""Shared pieces of the CLI tests (a module of its own: `from conftest import` is ambiguous across test dirs)."""

from __future__ import annotations

import importlib.util
import json
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
