"""The house rules of DESIGN §3, checked by import-linter (contracts in pyproject.toml): the store
free of textual/kubernetes, the watcher free of textual, the TUI free of kubernetes, and the store
the only way into the history (nothing else imports its models or peewee). No contract allows
indirect imports; the last tests show the model contract breaks when a module outside the store
reaches past its API."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "tekton_results_tui"
MODEL_CONTRACT = "only the store touches the models and the database library"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "import-linter is a test dependency: pip install -e '.[test]'"
    env = {**os.environ, "PYTHONPATH": str(cwd)}  # the package under `cwd`, not the installed one
    return subprocess.run([exe, "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=180, env=env)


def _contracts() -> list[dict]:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["importlinter"]["contracts"]


def test_no_contract_allows_indirect_imports() -> None:
    contracts = _contracts()
    assert any(c["name"] == MODEL_CONTRACT for c in contracts)
    assert [c["name"] for c in contracts if c.get("allow_indirect_imports")] == []


def test_import_contracts_hold() -> None:
    proc = _lint_imports(ROOT)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for c in _contracts():
        assert f"{c['name']} KEPT" in out, out


@pytest.mark.parametrize(("where", "line"), [
    ("tui/widgets/sneaky.py", f"from {PACKAGE}.store.models import Record\n"),
    ("commands/sneaky.py", "import peewee\n"),
    ("sneaky.py", f"from {PACKAGE}.store import models\n"),
])
def test_the_model_contract_breaks_when_a_module_outside_the_store_reaches_past_its_api(tmp_path, where, line) -> None:
    shutil.copytree(ROOT / PACKAGE, tmp_path / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / PACKAGE / where).write_text(line)
    proc = _lint_imports(tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert f"{MODEL_CONTRACT} BROKEN" in out, out
    sneaky = f"{PACKAGE}." + where.removesuffix(".py").replace("/", ".")
    assert sneaky in out, out
