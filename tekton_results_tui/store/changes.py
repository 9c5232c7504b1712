"""What a writer hands the store (`History.apply`) and what it gets back.

A batch is a list of changes: a run object to store (`RunUpsert`, or `ClassifiedRun` when the
caller classified it already), a run that left the cluster (`Gone`), a TaskRun's step logs
(`Logs`) and the events about a run (`Events`). `ApplyResult` says what the batch changed and
which objects were skipped, with a reason a person can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tekton_results_tui.store.grouping import RunInfo


class ReadOnlyError(Exception):
    """A write was attempted on a history opened read-only."""


@dataclass
class RunUpsert:
    """Store this run object (if newer than what is stored)."""

    obj: dict
    raw: str | None = None  # the object's JSON text, if the caller has it already


@dataclass
class ClassifiedRun:
    """A run already classified by `grouping.classify`, with its compact JSON text.

    For a bulk caller that classifies elsewhere (the import does it in a reader process, on the
    other core): the store keeps `raw` as the object and never parses it again.
    """

    info: RunInfo
    raw: str


@dataclass
class Gone:
    """The object with this uid left the cluster at `at` (history kept)."""

    uid: str
    at: int | None = None
    # From a relist: mark gone only if the stored rv is older than the list's snapshot — anything
    # newer was seen after the snapshot (by a watch event or another informer), so it is alive.
    before_rv: int | None = None


@dataclass
class StepLogData:
    step: str
    container: str
    text: bytes
    truncated: bool = False
    state: str = "stored"  # stored | pod-gone | not-started | error


@dataclass
class Logs:
    """Step logs of a TaskRun (the run object tells which Result they join)."""

    run: dict
    steps: list[StepLogData]
    info: RunInfo | None = None  # the run's classification when the caller has it (the watcher does)


@dataclass
class Events:
    """Kubernetes events about a run, stored as its EventList record."""

    run: dict
    items: list[dict]
    info: RunInfo | None = None  # the run's classification when the caller has it (the watcher does)


Change = RunUpsert | ClassifiedRun | Gone | Logs | Events


@dataclass
class Skipped:
    what: str
    why: str


@dataclass
class ApplyResult:
    seq: int  # the sequence after the batch (unchanged when nothing changed)
    changed: int = 0  # rows inserted/updated
    stored: int = 0  # run objects accepted (changed or already current)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # with apply(report=True): per run uid, "new" | "updated" | "unchanged" (read in the same transaction)
    outcomes: dict[str, str] = field(default_factory=dict)


def describe_object(obj: Any) -> str:
    """`PipelineRun ns/name`: how a skipped object is named in reports."""
    if not isinstance(obj, dict):
        return f"a {type(obj).__name__}"
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ns = meta.get("namespace")
    name = meta.get("name") or "(no name)"
    return f"{obj.get('kind') or 'object'} {ns + '/' if isinstance(ns, str) and ns else ''}{name}"
