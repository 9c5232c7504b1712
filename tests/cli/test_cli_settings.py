"""Settings: one frozen object built from flags, env and defaults; YAML aliases within bounds still load."""

from __future__ import annotations

import dataclasses

import pytest

from tekton_results_tui.cli import build_parser
from tekton_results_tui.commands.args import settings_from_args
from tekton_results_tui.commands.dumpfile import load_yaml_document
from tekton_results_tui.commands.limits import DumpLimitError
from tekton_results_tui.settings import DB_ENV, Settings


def test_flags_env_and_defaults_land_in_their_sections(monkeypatch) -> None:
    monkeypatch.setenv(DB_ENV, "sqlite:////tmp/from-env.db")
    s = settings_from_args(build_parser().parse_args(
        ["--headless", "-n", "ci", "-n", "ci", "-n", "dev", "--no-logs", "-l", "team=a", "--delete-after", "2h",
         "--finalizers", "--log-format", "json", "--metrics-port", "9090", "--cluster-name", "prod"]))
    assert s.headless and not s.read_only and not s.demo
    assert s.store.db_url == "sqlite:////tmp/from-env.db"
    assert s.cluster.namespaces == ("ci", "dev") and s.cluster.cluster_name == "prod"
    assert not s.watch.capture_logs and s.watch.capture_events and s.watch.label_selector == "team=a"
    assert s.watch.log_format == "json" and s.watch.metrics_port == 9090
    assert s.cleanup.delete_after_s == 7200 and s.cleanup.finalizers and s.cleanup.store_deadline_s == 600
    # the watcher's tunables keep their one default
    assert s.watch.page_size == 250 and s.watch.relist_interval_s == 1800 and s.watch.read_timeout_s == 120


def test_settings_are_frozen_and_replace_finds_the_section_by_name() -> None:
    s = Settings.of(db_url="sqlite:///x.db", kubeconfig="/k", annotate=False, read_only=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.watch.annotate = True  # type: ignore[misc]
    t = s.replace(page_size=7, delete_after_s=60.0)
    assert (t.watch.page_size, t.cleanup.delete_after_s, t.watch.annotate, t.read_only) == (7, 60.0, False, True)
    assert s.watch.page_size == 250  # the original is unchanged
    with pytest.raises(TypeError, match="no setting named 'pagesize'"):
        s.replace(pagesize=7)
    assert {"db_url", "kubeconfig", "page_size", "finalizers", "demo_rate", "read_only"} <= Settings.names()


def test_yaml_aliases_within_the_bounds_still_load() -> None:
    doc = load_yaml_document("base: &b {image: alpine, args: [a, b]}\nsteps: [*b, *b]\nmerged: {<<: *b, extra: 1}\n")
    assert doc["steps"] == [{"image": "alpine", "args": ["a", "b"]}] * 2
    assert doc["merged"] == {"image": "alpine", "args": ["a", "b"], "extra": 1}
    with pytest.raises(DumpLimitError, match="alias uses"):
        load_yaml_document("a: &a x\nb: [" + ", ".join(["*a"] * 1001) + "]\n")
    with pytest.raises(DumpLimitError, match="nested more than 200"):
        load_yaml_document("x: &x 1\ny: " + "[" * 201 + "]" * 201 + "\n")
