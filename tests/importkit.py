"""What a fresh interpreter has imported after some code ran: the start-up import checks' one tool.

Every start of the program builds the whole argument parser (all subcommands, for `--help` and
parsing), and a start of the TUI paints before anything else is asked of it. Modules of other
subcommands (the HTTP API stack, the CEL parser, YAML, the simulated cluster, the insights), of the
write path and of cleanup cost tens of milliseconds each at every start (bench/tui_bench.py's first
paint); they load when their command, key or watcher first needs them.
"""

from __future__ import annotations

import json
import subprocess
import sys

# loaded by no part of building the parser, or of constructing the app on a read-only history
NOT_AT_START = frozenset({
    "aiohttp", "celpy", "yaml", "kubernetes",  # (difflib: Textual itself loads it)
    "tekton_results_tui.api.server", "tekton_results_tui.api.app", "tekton_results_tui.api.cel_filter",
    "tekton_results_tui.sim.cluster", "tekton_results_tui.sim.workload",
    "tekton_results_tui.insights.stats", "tekton_results_tui.insights.diff", "tekton_results_tui.insights.timeline",
    "tekton_results_tui.commands.import_worker", "tekton_results_tui.commands.dump_stream",
    "tekton_results_tui.watcher.cleanup_plan", "tekton_results_tui.store.ingest",
    "tekton_results_tui.store.log_search", "tekton_results_tui.watcher.service",
})


def loaded_after(code: str) -> set[str]:
    """sys.modules of a fresh interpreter after `code` (which must succeed)."""
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout.strip().splitlines()[-1]))
