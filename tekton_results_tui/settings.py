"""Every option of the program: one frozen settings object, built once from flags, env and defaults.

    Settings
    ├── read_only / headless / demo     the mode (at most one is set; none = TUI with a watcher)
    ├── store    StoreSettings          where the history is (--db, $TEKTON_RESULTS_TUI_DB, XDG default)
    ├── cluster  ClusterSettings        which cluster and scope (--kubeconfig, --context, -n, --cluster-name)
    ├── watch    WatchSettings          what the watcher does, its tunables (page size, timeouts, relist, caps)
    │                                   and how a headless one reports (--log-format, --metrics-port)
    ├── cleanup  CleanupSettings        --delete-after, --delete-selector, --finalizers, --store-deadline
    ├── source   SourceSettings         a Tekton Results server to sync from instead of a cluster (--results-api)
    └── tui      TuiSettings            the demo cluster's workload

Each tunable has its one default here; the parts read it from the settings they are given and keep no
default of their own. Frozen: a part cannot change an option under another's feet; `replace(name=value)`
returns a changed copy (field names are unique across sections, so a flat name says which section).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DB_ENV = "TEKTON_RESULTS_TUI_DB"
APP_DIR_NAME = "tekton-results-tui"


def data_dir() -> Path:
    """Where the default history lives: $XDG_DATA_HOME/tekton-results-tui (~/.local/share/...)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / APP_DIR_NAME


def default_db_url() -> str:
    """The database URL used when neither --db nor $TEKTON_RESULTS_TUI_DB is given."""
    env = os.environ.get(DB_ENV)
    if env:
        return env
    return "sqlite:///" + str(data_dir() / "history.db")


def is_default_db(url: str) -> bool:
    """Whether `url` is the XDG default file (the demo then uses a throwaway database instead)."""
    return url == "sqlite:///" + str(data_dir() / "history.db")


@dataclass(frozen=True)
class StoreSettings:
    db_url: str = field(default_factory=default_db_url)


@dataclass(frozen=True)
class ClusterSettings:
    kubeconfig: str | None = None
    context: str | None = None
    namespaces: tuple[str, ...] = ()  # empty = all namespaces; `-n ci -n ci` is one scope
    cluster_name: str | None = None  # stored with every row (default: the context name)

    def __post_init__(self) -> None:
        # one scope per namespace: two informers on one namespace would race each other's relists
        object.__setattr__(self, "namespaces", tuple(dict.fromkeys(self.namespaces or ())))


@dataclass(frozen=True)
class WatchSettings:
    label_selector: str | None = None
    annotate: bool = True  # write results.tekton.dev/* annotations back on runs
    capture_logs: bool = True
    capture_events: bool = True
    log_cap_bytes: int = 4 * 1024 * 1024  # per step; longer logs are stored truncated
    page_size: int = 250  # items per LIST page
    watch_timeout_s: int = 300  # server-side timeoutSeconds of one watch
    read_timeout_s: float = 120.0  # client-side read timeout of a LIST or a watch stream
    connect_timeout_s: float = 5.0
    relist_interval_s: float = 30 * 60.0  # a full LIST this often, to notice deletes a watch missed
    backoff_cap_s: float = 30.0  # the longest wait between reconnects
    batch_max: int = 500  # changes per store transaction
    batch_wait_s: float = 0.2  # how long a batch waits to fill before it is written
    queue_size: int = 500  # changes in flight between the informers and the writer
    aux_workers: int = 4  # threads reading logs/events and writing annotations
    capture_retry_s: float = 5.0  # a failed log/event read is tried again after this, doubling
    lease_ttl_s: float = 15.0  # a writer lease not renewed for this long is free
    lease_renew_s: float = 5.0
    # how a headless watcher reports
    log_format: str = "text"  # text | json lines on stderr
    metrics_port: int | None = None  # serve /metrics, /healthz, /readyz
    summary_interval_s: float = 30.0


@dataclass(frozen=True)
class CleanupSettings:
    delete_after_s: float | None = None  # delete stored, finished runs this long after completion
    delete_selector: str | None = None  # ... only those matching these labels
    finalizers: bool = False  # hold runs with a finalizer until they are stored
    store_deadline_s: float = 600.0  # release a finalizer after this long even if not stored


@dataclass(frozen=True)
class SourceSettings:
    results_api: str | None = None  # a Tekton Results API server: sync from it instead of watching a cluster
    results_token: str | None = None  # bearer token (else one from --kubeconfig/--context when given)
    source_parent: str = "-"  # the parent (namespace) to sync; `-` = all
    source_filter: str = ""  # CEL the server applies to Records
    insecure_skip_tls_verify: bool = False
    sync_interval_s: float = 5.0  # between passes when following
    sync_page_size: int = 1000  # Records per page
    sync_timeout_s: float = 30.0  # read timeout of one request (connect: watch.connect_timeout_s)


@dataclass(frozen=True)
class TuiSettings:
    demo_preload: int = 36  # finished PipelineRuns in the simulated cluster before the watcher starts
    demo_rate: float = 0.7  # new simulated runs per second
    demo_step_s: float = 0.6  # how fast simulated runs move through their steps


_SECTIONS = {"store": StoreSettings, "cluster": ClusterSettings, "watch": WatchSettings,
             "cleanup": CleanupSettings, "source": SourceSettings, "tui": TuiSettings}
_MODES = ("read_only", "headless", "demo")
# flat option name -> its section
_SECTION_OF: dict[str, str] = {f.name: sec for sec, cls in _SECTIONS.items() for f in dataclasses.fields(cls)}
assert len(_SECTION_OF) == sum(len(dataclasses.fields(c)) for c in _SECTIONS.values()), "option names must be unique"


@dataclass(frozen=True)
class Settings:
    """One place for every option; the CLI builds it, the parts read their section."""

    read_only: bool = False  # view a history: no watcher, no cluster writes, database opened read-only
    headless: bool = False  # the watcher alone, no UI
    demo: bool = False  # a simulated cluster in-process
    store: StoreSettings = field(default_factory=StoreSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    watch: WatchSettings = field(default_factory=WatchSettings)
    cleanup: CleanupSettings = field(default_factory=CleanupSettings)
    source: SourceSettings = field(default_factory=SourceSettings)
    tui: TuiSettings = field(default_factory=TuiSettings)

    @staticmethod
    def names() -> frozenset[str]:
        """Every option name `replace`/`of` accept."""
        return frozenset((*_MODES, *_SECTION_OF))

    @classmethod
    def of(cls, **options: Any) -> Settings:
        """Defaults with `options` (flat names: `db_url=`, `kubeconfig=`, `annotate=`...) changed."""
        return cls().replace(**options)

    def replace(self, **options: Any) -> Settings:
        """A copy with the options named (flat names, any section) changed."""
        top: dict[str, Any] = {}
        per_section: dict[str, dict[str, Any]] = {}
        for name, value in options.items():
            if name in _MODES:
                top[name] = value
            elif name in _SECTION_OF:
                per_section.setdefault(_SECTION_OF[name], {})[name] = value
            else:
                raise TypeError(f"no setting named {name!r}")
        for sec, values in per_section.items():
            top[sec] = dataclasses.replace(getattr(self, sec), **values)
        return dataclasses.replace(self, **top)
