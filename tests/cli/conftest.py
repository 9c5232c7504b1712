"""CLI test helpers: a generated dump (scripts/make_dump.py) and `cli.main` run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from clikit import NOW, ROOT, Cli, load_make_dump  # noqa: F401 - re-exported for the fixtures below


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


@pytest.fixture
def cli(sqlite_url, capsys) -> Cli:
    return Cli(sqlite_url, capsys)


@pytest.fixture
def imported(cli, dump_yaml) -> Cli:
    rc, out, err = cli("import", str(dump_yaml))
    assert rc == 0, err
    return cli
