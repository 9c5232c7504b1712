"""The registry of run kinds: everything the program knows about PipelineRun, TaskRun and CustomRun.

Every module that needs a kind's plural, API group/version, record type, parent, whether it has
step logs, or how it sorts and is tagged in the tree iterates this registry instead of spelling
the kind out. Adding a kind is one `RunKind` entry here (plus its status reasons), then tests.

Pure data: no imports from the rest of the package, so the store, the watcher, the TUI, the
simulated cluster and the CLI can all read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RunKind:
    """One kind of Tekton run the watcher lists, watches, stores and can delete."""

    name: str  # "PipelineRun"
    plural: str  # "pipelineruns": the resource in API paths and RBAC rules
    group: str  # "tekton.dev"
    versions: tuple[str, ...]  # served versions, the one we watch first; all are accepted on import
    parent: str | None  # kind of the owner whose Result a child joins (ownerReferences); None = top level only
    step_logs: bool  # it runs a pod whose step containers have logs worth storing
    rank: int  # order among a Result's Records in the tree (runs first, parents before children)
    tag: str  # short tag shown in narrow columns
    aliases: tuple[str, ...]  # words accepted by `kind:` filters (lower case)
    name_label: str | None  # label naming what it runs (tekton.dev/pipeline, tekton.dev/task)
    ref_field: str | None  # spec field naming what it runs when the label is absent (pipelineRef, taskRef, customRef)
    timeout_reasons: frozenset[str] = frozenset()  # `Succeeded=False` reasons that mean TIMEOUT for this kind
    cancel_reasons: frozenset[str] = frozenset()  # ... and CANCELLED

    @property
    def api_version(self) -> str:
        """The apiVersion the watcher lists and watches: `tekton.dev/v1`."""
        return f"{self.group}/{self.versions[0]}"

    @property
    def api_versions(self) -> tuple[str, ...]:
        return tuple(f"{self.group}/{v}" for v in self.versions)

    @property
    def version(self) -> str:
        return self.versions[0]

    @property
    def record_type(self) -> str:
        """Tekton Results' record type string of an object of the watched version."""
        return f"{self.api_version}.{self.name}"

    @property
    def record_types(self) -> tuple[str, ...]:
        return tuple(f"{api}.{self.name}" for api in self.api_versions)

    @property
    def resource(self) -> str:
        """`pipelineruns.tekton.dev`, as kubectl and RBAC messages name it."""
        return f"{self.plural}.{self.group}"


@dataclass(frozen=True, slots=True)
class DocumentKind:
    """A Record the watcher builds about a run (not a cluster object): its step logs, its events."""

    name: str  # "Log"
    record_type: str
    rank: int
    tag: str
    aliases: tuple[str, ...]


PIPELINE_RUN = RunKind(
    name="PipelineRun",
    plural="pipelineruns",
    group="tekton.dev",
    versions=("v1", "v1beta1"),
    parent=None,
    step_logs=False,
    rank=0,
    tag="PR",
    aliases=("pipelinerun", "pipelineruns", "pr"),
    name_label="tekton.dev/pipeline",
    ref_field="pipelineRef",
    timeout_reasons=frozenset({"PipelineRunTimeout"}),
    cancel_reasons=frozenset({"PipelineRunCancelled", "StoppedRunFinally", "CancelledRunFinally"}),
)
TASK_RUN = RunKind(
    name="TaskRun",
    plural="taskruns",
    group="tekton.dev",
    versions=("v1", "v1beta1"),
    parent="PipelineRun",
    step_logs=True,
    rank=1,
    tag="TR",
    aliases=("taskrun", "taskruns", "tr"),
    name_label="tekton.dev/task",
    ref_field="taskRef",
    timeout_reasons=frozenset({"TaskRunTimeout"}),
    cancel_reasons=frozenset({"TaskRunCancelled"}),
)
# A custom task run (a controller other than Tekton's runs it; no pod of Tekton's, so no step logs).
# Tekton serves it as v1beta1 only; reasons from pipeline's customrun_types.go.
CUSTOM_RUN = RunKind(
    name="CustomRun",
    plural="customruns",
    group="tekton.dev",
    versions=("v1beta1",),
    parent="PipelineRun",
    step_logs=False,
    rank=2,
    tag="CR",
    aliases=("customrun", "customruns", "cr"),
    name_label="tekton.dev/customTask",
    ref_field="customRef",
    timeout_reasons=frozenset({"CustomRunTimedOut"}),
    cancel_reasons=frozenset({"CustomRunCancelled"}),
)

RUN_KINDS: tuple[RunKind, ...] = (PIPELINE_RUN, TASK_RUN, CUSTOM_RUN)

LOG = DocumentKind("Log", "results.tekton.dev/v1alpha3.Log", rank=10, tag="Log", aliases=("log", "logs"))
EVENT_LIST = DocumentKind(
    "EventList", "results.tekton.dev/v1.EventList", rank=11, tag="Events", aliases=("eventlist", "events")
)
DOCUMENT_KINDS: tuple[DocumentKind, ...] = (LOG, EVENT_LIST)

RUN_KIND_NAMES: tuple[str, ...] = tuple(k.name for k in RUN_KINDS)
BY_NAME: dict[str, RunKind] = {k.name: k for k in RUN_KINDS}
BY_PLURAL: dict[str, RunKind] = {k.plural: k for k in RUN_KINDS}
# every kind a Record can have, run or document, with its tree rank
RANK: dict[str, int] = {k.name: k.rank for k in (*RUN_KINDS, *DOCUMENT_KINDS)}
# `kind:` filter words -> kind name
ALIASES: dict[str, str] = {a: k.name for k in (*RUN_KINDS, *DOCUMENT_KINDS) for a in k.aliases}
# kinds whose owner groups them (children of a PipelineRun)
CHILD_KINDS: tuple[RunKind, ...] = tuple(k for k in RUN_KINDS if k.parent)


def run_kind(name: str | None) -> RunKind | None:
    """The registry entry of a kind name, or None for a document or an unknown kind."""
    return BY_NAME.get(name) if name else None


def is_run(kind: str | None) -> bool:
    return kind in BY_NAME


def children_of(parent: str) -> tuple[RunKind, ...]:
    """Kinds a run of `parent` kind owns (TaskRun and CustomRun for a PipelineRun)."""
    return tuple(k for k in RUN_KINDS if k.parent == parent)
