"""The watcher's status snapshot: what the UI header, headless logs and metrics show."""

from __future__ import annotations

from dataclasses import dataclass, field

# states
STARTING = "starting"
LIVE = "live"  # every informer is watching
RECONNECTING = "reconnecting"  # a stream dropped or an error is being retried
OFF = "off"  # not running: read-only, no cluster, stopped, or a headless watcher owns the DB
STANDBY = "standby"  # another replica holds the writer lease


@dataclass
class WatcherStatus:
    """An immutable-by-convention snapshot; the service hands out copies."""

    state: str = OFF
    reason: str | None = None  # in words: why off/reconnecting ("no kubeconfig found", "403: cannot watch ...")
    context: str | None = None  # kube context name
    cluster: str = ""  # cluster name stored with every row
    server: str | None = None  # API server URL
    scope: str = "all namespaces"  # or "ns: ci, dev"
    connected: bool = False
    last_event_time: float | None = None
    events_per_s: float = 0.0  # recent rate of watch events
    backlog: int = 0  # events waiting for the writer
    counts: dict[str, int] = field(default_factory=dict)  # events, stored, batches, relists, errors, logs, ...
    last_error: str | None = None
    annotate: bool = True  # False once a 403 on patch turned annotations off
    owner: str | None = None  # when OFF because a headless watcher owns the DB: its holder id
    leader: bool | None = None  # under leader election (PostgreSQL HA): True = this replica writes; None = no election
