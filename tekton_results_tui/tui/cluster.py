"""How the TUI reaches the cluster: only through the watcher, only through these protocols.

`ClusterActions` is everything the app and its panes ask of the cluster: the watcher's state
for the header, a live pod log while a TaskRun runs, and — only where deleting is possible at
all — a `RunDeleter`. Two implementations:

- `WatcherCluster` adapts the watcher service running in this process;
- `NoCluster` is the null one: the read-only viewer, a TUI following a headless watcher, or a
  watcher that could not start. Its `deleter` is None and it has no delete method, so in those
  modes no code path from a key to a cluster write exists.

The tui never imports kubernetes: the watcher does the talking.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from tekton_results_tui import kinds
from tekton_results_tui.watcher.status import OFF, WatcherStatus

if TYPE_CHECKING:
    from tekton_results_tui.watcher.cleanup_plan import CleanupPlan


class DeleteOutcome(Protocol):
    """What happened to one run of a plan."""

    @property
    def ok(self) -> bool: ...

    def line(self) -> str: ...


ProgressFn = Callable[[int, int, DeleteOutcome], None]  # (done, total, latest outcome)
StopFn = Callable[[], bool]


class Unavailable(RuntimeError):
    """The cluster cannot be asked (no watcher in this process); the message says why in words."""


class PodLogReader(Protocol):
    """A running step's log, read from its pod (the Logs tab polls it)."""

    def read_pod_log(self, namespace: str, pod: str, container: str) -> str: ...


class RunDeleter(Protocol):
    """Deletes runs of a cleanup plan from the cluster; the history keeps them."""

    def can_delete(self) -> bool:
        """May this identity delete every run kind in the watched scope (asks the cluster: slow)."""
        ...

    def delete_runs(self, plan: CleanupPlan, progress: ProgressFn | None = None,
                    should_stop: StopFn | None = None) -> Sequence[DeleteOutcome]: ...


class ClusterActions(Protocol):
    """What the TUI needs of the cluster."""

    @property
    def name(self) -> str:
        """The cluster name rows of this cluster are stored under ("" when unknown)."""
        ...

    def status(self) -> WatcherStatus: ...

    @property
    def following(self) -> bool:
        """True when a watcher in another process writes the history and this TUI follows it."""
        ...

    @property
    def pod_logs(self) -> PodLogReader | None: ...

    @property
    def deleter(self) -> RunDeleter | None: ...


class WatcherCalls(Protocol):
    """The calls the watcher service offers the TUI (WatcherService implements them)."""

    @property
    def cluster(self) -> str: ...

    def status(self) -> WatcherStatus: ...

    def read_pod_log(self, namespace: str, pod: str, container: str) -> str: ...

    def can_i(self, verb: str, resource: str, namespace: str | None = None) -> bool: ...

    def delete_runs(self, plan: CleanupPlan, progress_cb: ProgressFn | None = None,
                    should_stop: StopFn | None = None) -> Sequence[DeleteOutcome]: ...


class WatcherCluster:
    """`ClusterActions` over the watcher service of this process (it can delete)."""

    def __init__(self, service: WatcherCalls, namespaces: Sequence[str] = ()) -> None:
        self.service = service
        self.namespaces = tuple(namespaces)  # the watched scope; empty = all namespaces

    @property
    def name(self) -> str:
        return self.service.cluster

    def status(self) -> WatcherStatus:
        try:
            return self.service.status()
        except Exception as exc:  # noqa: BLE001 - the header says so; it must never crash the app
            return WatcherStatus(state=OFF, reason=f"status unavailable: {exc}")

    @property
    def following(self) -> bool:
        return False

    @property
    def pod_logs(self) -> PodLogReader:
        return self.service

    @property
    def deleter(self) -> RunDeleter:
        return self

    def can_delete(self) -> bool:
        """SelfSubjectAccessReview for delete on every run kind, in every watched namespace."""
        scopes: Sequence[str | None] = self.namespaces or (None,)
        try:
            return all(self.service.can_i("delete", k.resource, ns) for k in kinds.RUN_KINDS for ns in scopes)
        except Exception:  # noqa: BLE001 - unknown means no
            return False

    def delete_runs(self, plan: CleanupPlan, progress: ProgressFn | None = None,
                    should_stop: StopFn | None = None) -> Sequence[DeleteOutcome]:
        return self.service.delete_runs(plan, progress, should_stop=should_stop)


class NoCluster:
    """The null `ClusterActions`: no watcher in this process, so nothing to read live and nothing to delete."""

    def __init__(self, note: WatcherStatus | None = None, name: str = "") -> None:
        self.note = note or WatcherStatus(state=OFF, reason="no watcher")
        self._name = name

    @property
    def name(self) -> str:
        return self._name or self.note.cluster

    def status(self) -> WatcherStatus:
        return self.note

    @property
    def following(self) -> bool:
        return self.note.owner is not None

    @property
    def pod_logs(self) -> None:
        return None

    @property
    def deleter(self) -> None:
        return None


def deletable_kinds_text() -> str:
    """`pipelineruns/taskruns/customruns.tekton.dev`, for "the cluster does not allow deleting ..."."""
    groups = {k.group for k in kinds.RUN_KINDS}
    if len(groups) == 1:
        return "/".join(k.plural for k in kinds.RUN_KINDS) + "." + groups.pop()
    return ", ".join(k.resource for k in kinds.RUN_KINDS)
