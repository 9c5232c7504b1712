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
    ("from tekton_results_tui.commands import import_cmd\nassert import_cmd.ReaderProcess.__name__ == 'ReaderProcess'",
     "tekton_results_tui.commands.import_worker"),
    (r"""from tekton_results_tui.commands import output
assert output.yaml_text({"a": "x\u202ey"}) == 'a: "x\\u202Ey"\n'  # the dumper, built on first use, escapes it
""", "yaml"),
])
def test_what_moved_behind_a_first_use_still_resolves(code: str, module: str) -> None:
    assert module in loaded_after(code)


def test_stats_help_names_the_statistics_group_keys() -> None:
    """`stats --by` spells the keys for `--help` without loading the statistics (insights_cmds.py)."""
    from tekton_results_tui.commands.insights_cmds import GROUP_KEYS
    from tekton_results_tui.insights.stats import GROUP_KEYS as STATS_GROUP_KEYS

    assert GROUP_KEYS == STATS_GROUP_KEYS
