"""The names of the writer lease: which row says who writes a cluster's runs into a history.

Kept apart from the service (and its cluster client) so a read-only viewer can follow a lease
without loading Kubernetes.
"""

from __future__ import annotations

HA_HOLDER_PREFIX = "headless-ha:"  # every elected --headless replica of a cluster holds the lease under one id


def lease_name(cluster: str) -> str:
    """The lease row of the watcher writing `cluster`'s runs."""
    return f"watcher:{cluster}"


def ha_holder(cluster: str) -> str:
    """The holder id the elected `--headless` replicas of `cluster` share (PostgreSQL leader election)."""
    return f"{HA_HOLDER_PREFIX}{cluster}"
