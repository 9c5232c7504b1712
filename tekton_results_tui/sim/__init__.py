"""A simulated Tekton cluster: the Kubernetes API subset the product uses, over loopback HTTP, plus a workload."""

from tekton_results_tui.sim.cluster import RequestRecord, SimCluster
from tekton_results_tui.sim.faults import Faults
from tekton_results_tui.sim.workload import Workload

__all__ = ["Faults", "RequestRecord", "SimCluster", "Workload"]
