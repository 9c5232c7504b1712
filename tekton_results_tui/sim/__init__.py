"""A simulated Tekton cluster: the Kubernetes API subset the product uses, over loopback HTTP, plus a workload.

The names below load on first use (PEP 562): `sim.cli` is one of the CLI's subcommands, and every
start of the program builds its parser, so importing the package must not start the cluster's code.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tekton_results_tui.sim.cluster import RequestRecord, SimCluster
    from tekton_results_tui.sim.faults import Faults
    from tekton_results_tui.sim.workload import Workload

_WHERE = {"RequestRecord": "cluster", "SimCluster": "cluster", "Faults": "faults", "Workload": "workload"}
__all__ = ["Faults", "RequestRecord", "SimCluster", "Workload"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
