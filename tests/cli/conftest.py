"""CLI test helpers: a generated dump (scripts/make_dump.py) and `cli.main` run in-process."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def load_make_dump() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_dump", ROOT / "scripts" / "make_dump.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


NOW = int(time.time())


@pytest.fixture(scope="session")
def generated() -> tuple[dict, dict]:
    """(List object, expected Results) of a 40-PipelineRun dump taken 'now'."""
    return load_make_dump().build_dump(runs=40, seed=11, now=NOW)


@pytest.fixture
def dump_yaml(tmp_path, generated) -> Path:
    p = tmp_path / "dump.yaml"
    p.write_text(yaml.safe_dump(generated[0], sort_keys=False))
    return p


@pytest.fixture
def dump_json(tmp_path, generated) -> Path:
    p = tmp_path / "dump.json"
    p.write_text(json.dumps(generated[0], indent=4))
    return p


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


@pytest.fixture
def cli(sqlite_url, capsys) -> Cli:
    return Cli(sqlite_url, capsys)


@pytest.fixture
def imported(cli, dump_yaml) -> Cli:
    rc, out, err = cli("import", str(dump_yaml))
    assert rc == 0, err
    return cli
