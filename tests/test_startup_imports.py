"""Building the argument parser loads no subcommand's machinery (tests/importkit.py says why)."""

from __future__ import annotations

import pytest

from importkit import NOT_AT_START, loaded_after


def test_building_the_parser_loads_no_subcommand_machinery() -> None:
    loaded = loaded_after("from tekton_results_tui import cli\ncli.build_parser().parse_args(['--read-only'])")
    assert "tekton_results_tui.commands.serve_cmd" in loaded  # the check sees the subcommands' modules
    assert not loaded & NOT_AT_START, sorted(loaded & NOT_AT_START)


@pytest.mark.parametrize(("code", "module"), [
    ("from tekton_results_tui.api.server import ServeOptions, DEFAULT_LISTEN\n"
     "assert ServeOptions().listen == DEFAULT_LISTEN", "tekton_results_tui.api.server"),
    ("from tekton_results_tui.sim import SimCluster, Workload, Faults, RequestRecord", "tekton_results_tui.sim.cluster"),
])
def test_what_moved_behind_a_first_use_still_resolves(code: str, module: str) -> None:
    assert module in loaded_after(code)
