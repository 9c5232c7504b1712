"""What changed between two runs: a structured list of changes, a task table, and a unified YAML diff.

Pure: run objects in (as stored — live or long gone from the cluster), answers out; reading them from
the history is insights/diff_load.py. A screen shows `RunDiff` as a summary (`by_section`) and
`YamlDiff` (insights/yaml_diff.py) below it, jumping between its hunks.

What is compared, and the path each change is named by:
- `spec.*`: the whole spec (params, pipelineRef/taskRef, service account, workspaces, timeouts,
  pod templates ...), except an embedded pipelineSpec/taskSpec, which is compared as the resolved
  spec below. Lists whose items all carry a unique `name` (params, tasks, steps, workspaces, results,
  env ...) are matched by name, `spec.params[name=revision].value`, so a reorder is not a change;
  other lists by position, `[0]`. A key that is not a plain word is quoted: `labels["app.kubernetes.io/name"]`.
- `pipelineSpec.*` / `taskSpec.*`: the resolved spec (status.pipelineSpec / status.taskSpec, where
  Tekton keeps what it ran; spec.* when the status has none).
- `status.results` (v1beta1: pipelineResults / taskResults): the run's results.
- `metadata.labels.*`, `metadata.annotations.*`: minus what the system writes (`is_system_key`).
- PipelineRuns: per pipeline task `tasks[name=X].status` (ran, SKIPPED, failed ... or absent),
  `tasks[name=X].taskSpec.*` (the TaskRun's resolved spec, when the pipeline spec does not embed it),
  `tasks[name=X].results.*`, `tasks[name=X].steps[name=S].imageID` (the image digest that ran).
  TaskRuns: `status.steps[name=S].imageID`.
Durations always differ, so they are not changes: `tasks` holds them per task and per step.
Sections group changes for people: a path ending in `.image`/`.imageID` is an image wherever it is.

Values in a change are the JSON values as stored (a whole subtree when one was added or removed;
None when absent). Nothing here makes text safe for a terminal: the showing side does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
SKIPPED = "SKIPPED"  # in status.skippedTasks: its `when` was false, or a task it needed failed
NOT_RUN = "NOT_RUN"  # in the run's pipeline spec, but it has no TaskRun and was not skipped (yet)

# Sections, in the order a summary shows them.
PARAMS, RESULTS, TASKS, IMAGES, METADATA, SPEC = "params", "results", "tasks", "images", "metadata", "spec"
SECTIONS = (PARAMS, RESULTS, TASKS, IMAGES, METADATA, SPEC)
SECTION_TITLES = {PARAMS: "Params", RESULTS: "Results", TASKS: "Tasks", IMAGES: "Images and digests",
                  METADATA: "Labels and annotations", SPEC: "Spec"}

# Labels and annotations the system writes on every run: they differ between any two runs and say
# nothing about what the user changed. Tekton's own (tekton.dev/*: pipeline, pipelineRun, task, memberOf
# ...), this program's and Tekton Results' bookkeeping (results.tekton.dev/*: result, record, stored —
# but not the two annotations a user writes to steer summaries), Chains' signing state, kubectl's
# last-applied copy, the Triggers event id, and what Pipelines-as-Code writes about the run's
# progress (state, check-run id, log URL, its per-run secret, controller). Pipelines-as-Code's
# description of the source (sha, branch, event type, sender, pull request ...) is kept: it is often
# exactly what changed.
SYSTEM_PREFIXES = ("tekton.dev/", "results.tekton.dev/", "chains.tekton.dev/")
USER_KEYS = frozenset({"results.tekton.dev/resultAnnotations", "results.tekton.dev/recordSummaryAnnotations"})
SYSTEM_KEYS = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    "triggers.tekton.dev/triggers-eventid",
    *(f"pipelinesascode.tekton.dev/{k}" for k in (
        "state", "check-run-id", "log-url", "installation-id", "git-auth-secret", "controller-info", "status",
        "original-prname", "execution-order",
    )),
})
RESULT_KEYS = ("results", "pipelineResults", "taskResults")  # v1, then v1beta1 PipelineRun / TaskRun
_STATUS_RESULTS = tuple(f"status.{k}" for k in RESULT_KEYS)
_TASK_ROOT = re.compile(r'tasks\[name=(?:"(?:[^"\\]|\\.)*"|[^\]"\s]+)\]')  # name_path("tasks", name)
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_PLAIN_NAME = re.compile(r"[^\]\"\s]+\Z")


def is_system_key(key: str) -> bool:
    """A label or annotation the system writes (see SYSTEM_PREFIXES and SYSTEM_KEYS)."""
    if key in USER_KEYS:
        return False
    return key in SYSTEM_KEYS or key.startswith(SYSTEM_PREFIXES)


@dataclass(frozen=True)
class Change:
    path: str
    a: Any  # None when absent in A
    b: Any  # None when absent in B
    kind: str  # added | removed | changed
    section: str

    def document(self) -> dict[str, Any]:
        return {"path": self.path, "a": self.a, "b": self.b, "kind": self.kind}


@dataclass(frozen=True)
class StepDelta:
    step: str
    a_status: str | None  # None: no such step in A
    b_status: str | None
    a_seconds: int | None  # None: not finished (or absent)
    b_seconds: int | None

    def document(self) -> dict[str, Any]:
        return {"step": self.step, "a_status": self.a_status, "b_status": self.b_status,
                "a_seconds": self.a_seconds, "b_seconds": self.b_seconds}


@dataclass(frozen=True)
class TaskDelta:
    """One pipeline task in both runs (for a TaskRun diff, the TaskRun itself)."""

    task: str
    a_status: str | None  # SUCCESS FAILURE TIMEOUT CANCELLED UNKNOWN SKIPPED NOT_RUN, None: not in A
    b_status: str | None
    a_seconds: int | None
    b_seconds: int | None
    steps: tuple[StepDelta, ...] = ()

    @property
    def delta_seconds(self) -> int | None:
        return None if self.a_seconds is None or self.b_seconds is None else self.b_seconds - self.a_seconds

    def document(self) -> dict[str, Any]:
        return {"task": self.task, "a_status": self.a_status, "b_status": self.b_status, "a_seconds": self.a_seconds,
                "b_seconds": self.b_seconds, "steps": [s.document() for s in self.steps]}


@dataclass(frozen=True)
class RunSide:
    """One run as stored: its object and, for a PipelineRun, the objects of its TaskRuns/CustomRuns."""

    obj: dict
    children: Sequence[dict] = ()
    record: str = ""  # its Record name, for scripts
    in_cluster: bool = True

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind") or "")

    @property
    def namespace(self) -> str:
        return str(_dict(self.obj.get("metadata")).get("namespace") or "")

    @property
    def name(self) -> str:
        return str(_dict(self.obj.get("metadata")).get("name") or "")


@dataclass
class RunDiff:
    kind: str
    a: RunSide
    b: RunSide
    a_status: str
    b_status: str
    a_seconds: int | None
    b_seconds: int | None
    changes: list[Change] = field(default_factory=list)
    tasks: list[TaskDelta] = field(default_factory=list)

    def by_section(self) -> dict[str, list[Change]]:
        """Changes grouped by section, in SECTIONS order (empty sections left out)."""
        out: dict[str, list[Change]] = {s: [] for s in SECTIONS}
        for c in self.changes:
            out[c.section].append(c)
        return {s: cs for s, cs in out.items() if cs}

    def document(self) -> dict[str, Any]:
        """The JSON answer: a, b, changes, tasks, plus the runs' kind, records, statuses and durations."""
        return {"a": self.a.name, "b": self.b.name, "kind": self.kind,
                "changes": [c.document() for c in self.changes], "tasks": [t.document() for t in self.tasks],
                "a_record": self.a.record, "b_record": self.b.record, "a_status": self.a_status,
                "b_status": self.b_status, "a_seconds": self.a_seconds, "b_seconds": self.b_seconds}


# --- the structural diff ------------------------------------------------------------------------------


def _dict(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> list:
    return v if isinstance(v, list) else []


def section_of(path: str) -> str:
    if path.endswith((".image", ".imageID")):
        return IMAGES
    if path.startswith("spec.params"):
        return PARAMS
    if path.startswith("metadata."):
        return METADATA
    if path.startswith(_STATUS_RESULTS):
        return RESULTS
    m = _TASK_ROOT.match(path)
    if m:
        rest = path[m.end():]
        if rest == ".status":
            return TASKS
        if rest.startswith(".results"):
            return RESULTS
    return SPEC


def key_path(path: str, key: str) -> str:
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def name_path(path: str, name: str, field_name: str = "name") -> str:
    shown = name if _PLAIN_NAME.match(name) else json.dumps(name, ensure_ascii=False)
    return f"{path}[{field_name}={shown}]"


def _by_name(items: list) -> dict[str, Any] | None:
    """name -> item when every item is an object with a unique string name, else None."""
    out: dict[str, Any] = {}
    for it in items:
        if not isinstance(it, dict):
            return None
        n = it.get("name")
        if not isinstance(n, str) or n in out:
            return None
        out[n] = it
    return out


def diff_values(path: str, a: Any, b: Any, out: list[Change]) -> None:
    """Append the changes from `a` to `b` under `path` (None = absent)."""
    if a == b:
        return
    if a is None or b is None:
        kind = ADDED if a is None else REMOVED
        out.append(Change(path, a, b, kind, section_of(path)))
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k, va in a.items():
            diff_values(key_path(path, str(k)), va, b.get(k), out)
        for k, vb in b.items():
            if k not in a:
                diff_values(key_path(path, str(k)), None, vb, out)
        return
    if isinstance(a, list) and isinstance(b, list):
        na, nb = _by_name(a), _by_name(b)
        if na is not None and nb is not None:
            for n, va in na.items():
                diff_values(name_path(path, n), va, nb.get(n), out)
            for n, vb in nb.items():
                if n not in na:
                    diff_values(name_path(path, n), None, vb, out)
            return
        for i in range(max(len(a), len(b))):
            diff_values(f"{path}[{i}]", a[i] if i < len(a) else None, b[i] if i < len(b) else None, out)
        return
    out.append(Change(path, a, b, CHANGED, section_of(path)))


def _labels(meta: dict, key: str) -> dict[str, Any]:
    return {k: v for k, v in _dict(meta.get(key)).items() if not is_system_key(str(k))}


def _spec_key(kind: str) -> str:
    return "pipelineSpec" if kind == kinds.PIPELINE_RUN.name else "taskSpec"


def resolved_spec(obj: dict) -> Any:
    """What the run ran: status.pipelineSpec / status.taskSpec, else the spec's embedded one (or None)."""
    key = _spec_key(str(obj.get("kind") or ""))
    found = _dict(obj.get("status")).get(key)
    return found if found is not None else _dict(obj.get("spec")).get(key)


def _run_changes(a: dict, b: dict, kind: str, out: list[Change]) -> None:
    skey = _spec_key(kind)
    sa = {k: v for k, v in _dict(a.get("spec")).items() if k != skey}
    sb = {k: v for k, v in _dict(b.get("spec")).items() if k != skey}
    diff_values("spec", sa, sb, out)
    ma, mb = _dict(a.get("metadata")), _dict(b.get("metadata"))
    for key in ("labels", "annotations"):
        diff_values(f"metadata.{key}", _labels(ma, key), _labels(mb, key), out)
    sta, stb = _dict(a.get("status")), _dict(b.get("status"))
    for key in RESULT_KEYS:
        diff_values(f"status.{key}", sta.get(key), stb.get(key), out)
    diff_values(skey, resolved_spec(a), resolved_spec(b), out)


# --- tasks and steps ------------------------------------------------------------------------------------


@dataclass
class _Step:
    status: str
    seconds: int | None
    image_id: str | None


@dataclass
class _Task:
    status: str
    seconds: int | None
    steps: dict[str, _Step] = field(default_factory=dict)
    obj: dict | None = None  # the TaskRun/CustomRun, when one ran


def _seconds(start: Any, end: Any) -> int | None:
    s, e = g.parse_time(start), g.parse_time(end)
    return e - s if s is not None and e is not None and e >= s else None


def _steps_of(run: dict) -> dict[str, _Step]:
    out: dict[str, _Step] = {}
    for s in _list(_dict(run.get("status")).get("steps")):
        if not isinstance(s, dict) or not isinstance(s.get("name"), str):
            continue
        term = _dict(s.get("terminated"))
        if term:
            status = g.SUCCESS if term.get("exitCode") in (0, None) else g.FAILURE
            secs = _seconds(term.get("startedAt"), term.get("finishedAt"))
        else:
            status, secs = g.UNKNOWN, None
        image_id = s.get("imageID")
        out[s["name"]] = _Step(status, secs, image_id if isinstance(image_id, str) else None)
    return out


def _run_task(run: dict) -> _Task:
    st = _dict(run.get("status"))
    secs = _seconds(st.get("startTime"), st.get("completionTime")) if g.status_of(run).final else None
    return _Task(g.status_of(run).status, secs, _steps_of(run), run)


def _pipeline_task_of(child: dict, child_refs: dict[str, str]) -> str:
    meta = _dict(child.get("metadata"))
    name = str(meta.get("name") or "?")
    return str(_dict(meta.get("labels")).get("tekton.dev/pipelineTask") or child_refs.get(name) or name)


def _created(obj: dict) -> int:
    return g.parse_time(_dict(obj.get("metadata")).get("creationTimestamp")) or 0


def pipeline_tasks(pr: dict, children: Iterable[dict]) -> dict[str, _Task]:
    """Pipeline task -> what became of it in this PipelineRun, in the spec's order (then any others).

    A task fanned out by a matrix has several TaskRuns: the second and later are `task#2`, `task#3`
    in creation order.
    """
    st = _dict(pr.get("status"))
    spec = _dict(resolved_spec(pr))
    order = [t["name"] for t in _list(spec.get("tasks")) + _list(spec.get("finally"))
             if isinstance(t, dict) and isinstance(t.get("name"), str)]
    refs = {str(c.get("name")): str(c.get("pipelineTaskName")) for c in _list(st.get("childReferences"))
            if isinstance(c, dict) and c.get("pipelineTaskName")}
    ran: dict[str, _Task] = {}
    for child in sorted(children, key=_created):
        base = _pipeline_task_of(child, refs)
        key, n = base, 1
        while key in ran:
            n += 1
            key = f"{base}#{n}"
        ran[key] = _run_task(child)
    skipped = {s["name"] for s in _list(st.get("skippedTasks")) if isinstance(s, dict) and isinstance(s.get("name"), str)}
    out: dict[str, _Task] = {}
    for name in order:
        if name in ran:
            out[name] = ran.pop(name)
            for k in [k for k in ran if k.startswith(name + "#")]:
                out[k] = ran.pop(k)
        else:
            out[name] = _Task(SKIPPED if name in skipped else NOT_RUN, None)
    out.update(ran)  # TaskRuns the spec does not name (no stored spec, or a spec from elsewhere)
    for name in skipped:
        out.setdefault(name, _Task(SKIPPED, None))
    return out


def _task_deltas(ta: dict[str, _Task], tb: dict[str, _Task]) -> list[TaskDelta]:
    out = []
    for name in [*ta, *(n for n in tb if n not in ta)]:
        a, b = ta.get(name), tb.get(name)
        sa, sb = (a.steps if a else {}), (b.steps if b else {})
        steps = tuple(
            StepDelta(s, sa[s].status if s in sa else None, sb[s].status if s in sb else None,
                      sa[s].seconds if s in sa else None, sb[s].seconds if s in sb else None)
            for s in [*sa, *(s for s in sb if s not in sa)]
        )
        out.append(TaskDelta(name, a.status if a else None, b.status if b else None,
                             a.seconds if a else None, b.seconds if b else None, steps))
    return out


def _embedded_task_specs(pr: dict) -> set[str]:
    spec = _dict(resolved_spec(pr))
    return {t["name"] for t in _list(spec.get("tasks")) + _list(spec.get("finally"))
            if isinstance(t, dict) and isinstance(t.get("name"), str) and "taskSpec" in t}


def _child_changes(pa: dict, pb: dict, ta: dict[str, _Task], tb: dict[str, _Task], out: list[Change]) -> None:
    embedded = _embedded_task_specs(pa) & _embedded_task_specs(pb)
    for name in [*ta, *(n for n in tb if n not in ta)]:
        a, b = ta.get(name), tb.get(name)
        root = name_path("tasks", name)
        sa, sb = (a.status if a else None), (b.status if b else None)
        if sa != sb:
            kind = ADDED if sa is None else REMOVED if sb is None else CHANGED
            out.append(Change(f"{root}.status", sa, sb, kind, TASKS))
        oa, ob = (a.obj if a else None), (b.obj if b else None)
        if oa is None or ob is None:
            continue  # a task that ran on one side only: its status says so
        if name.split("#")[0] not in embedded:
            diff_values(f"{root}.taskSpec", resolved_spec(oa), resolved_spec(ob), out)
        for key in RESULT_KEYS:
            diff_values(f"{root}.results", _dict(oa.get("status")).get(key), _dict(ob.get("status")).get(key), out)
        _image_changes(f"{root}.steps", a.steps, b.steps, out)


def _image_changes(root: str, sa: dict[str, _Step], sb: dict[str, _Step], out: list[Change]) -> None:
    for step in [s for s in sa if s in sb]:
        ia, ib = sa[step].image_id, sb[step].image_id
        if ia != ib:
            kind = ADDED if ia is None else REMOVED if ib is None else CHANGED
            out.append(Change(f"{name_path(root, step)}.imageID", ia, ib, kind, IMAGES))


def _section_order(changes: list[Change]) -> list[Change]:
    rank = {s: i for i, s in enumerate(SECTIONS)}
    return sorted(changes, key=lambda c: rank[c.section])  # stable: paths keep their traversal order


def diff_runs(a: RunSide, b: RunSide) -> RunDiff:
    """What changed from run A to run B (two runs of one kind; a PipelineRun with its children)."""
    kind = a.kind
    changes: list[Change] = []
    _run_changes(a.obj, b.obj, kind, changes)
    if kind == kinds.PIPELINE_RUN.name:
        ta, tb = pipeline_tasks(a.obj, a.children), pipeline_tasks(b.obj, b.children)
        _child_changes(a.obj, b.obj, ta, tb, changes)
        tasks = _task_deltas(ta, tb)
    else:
        ra, rb = _run_task(a.obj), _run_task(b.obj)
        _image_changes("status.steps", ra.steps, rb.steps, changes)
        labels = _dict(_dict(b.obj.get("metadata")).get("labels"))
        name = str(labels.get("tekton.dev/pipelineTask") or labels.get("tekton.dev/task") or b.name)
        tasks = _task_deltas({name: ra}, {name: rb})
    ra_, rb_ = _run_task(a.obj), _run_task(b.obj)
    return RunDiff(kind, a, b, ra_.status, rb_.status, ra_.seconds, rb_.seconds, _section_order(changes), tasks)

