"""The installed console script end to end: make_dump.py -> import -> results -o json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from clikit import ROOT

BIN = Path(sys.executable).parent


def test_import_then_results_json_in_a_shell(tmp_path) -> None:
    dump, expected_path, db = tmp_path / "dump.yaml", tmp_path / "expected.json", tmp_path / "h.db"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_dump.py"), "--out", str(dump), "--runs", "25",
                    "--seed", "3", "--expected", str(expected_path)], check=True, capture_output=True, timeout=60)
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "TEKTON_RESULTS_TUI_DB": f"sqlite:///{db}", "HOME": str(tmp_path)}
    p = subprocess.run("tekton-results-tui import dump.yaml && tekton-results-tui results -o json --limit 0",
                       shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    first, _, rest = p.stdout.partition("\n")
    expected = json.loads(expected_path.read_text())
    assert first.startswith("dump.yaml: ") and "runs stored" in first
    results = {r["name"]: r for r in json.loads(rest)["results"]}
    assert set(results) == set(expected)
    for name, want in expected.items():
        got = results[name]
        assert (got["summary"]["status"], got["reason"]) == (want["status"], want["reason"]), name
        assert (got["summary"]["start_time"], got["summary"]["end_time"]) == (want["start_time"], want["end_time"])
        assert got["record_count"] == want["record_count"], name
    statuses = {r["summary"]["status"] for r in results.values()}
    assert statuses == {"SUCCESS", "FAILURE", "CANCELLED", "TIMEOUT", "UNKNOWN"}


def test_make_dump_is_deterministic(tmp_path) -> None:
    outs = []
    for i in range(2):
        out = tmp_path / f"d{i}.json"
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_dump.py"), "--out", str(out), "--runs", "12",
                        "--now", "2026-03-01T12:00:00Z", "--json"], check=True, capture_output=True, timeout=60)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    doc = json.loads(outs[0])
    assert doc["kind"] == "List" and {o["apiVersion"] for o in doc["items"]} == {"tekton.dev/v1", "tekton.dev/v1beta1"}
