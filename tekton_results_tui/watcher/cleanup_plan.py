"""What a cleanup would delete from the cluster, and why each other run is kept — pure on the store.

Every front end (the `cleanup` command, the TUI dialog, the `--delete-after` policy) builds
its plan here, so they agree on the same runs for the same selection. No kubernetes import:
the TUI may show plans; only `cleanup.execute` deletes.

A run is deletable only when:
- it is still in the cluster (as far as the store knows) and stored for this cluster;
- its stored copy is final (the delete carries that resourceVersion as a precondition, so a
  newer live version makes the delete fail with 409 instead of losing the newer state);
- a TaskRun or CustomRun owned by a PipelineRun: that PipelineRun is finished (or gone);
- a PipelineRun: every child (TaskRun, CustomRun) — from its stored `status.childReferences`
  AND from the store's records of its Result — is stored final (or already gone), because
  background propagation deletes them with it (tektoncd/results#332); just before the delete
  the executor also asks the cluster for its children (cleanup.py);
- with `require_logs` / `require_events` (the policy): the Log / EventList records exist;
- no `--keep N` / `--keep-since D` rule keeps it (either rule keeping it is enough,
  tektoncd/cli#1990), counted per pipeline among the selected runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.history import History, RecordRow, ResultRow
from tekton_results_tui.store.query import Filter

GONE = "already gone from the cluster"
RUNNING = "running"
PAGE = 500


# --- what to look at -------------------------------------------------------------------


@dataclass(frozen=True)
class ResultTarget:
    """The top-level run(s) of a stored Result (a tree line, a filter match)."""

    result_id: int


@dataclass(frozen=True)
class RecordTarget:
    """One stored run (or the run a Log/EventList record belongs to)."""

    record_id: int


Target = ResultTarget | RecordTarget


def targets_for_ids(result_ids: Iterable[int] = (), record_ids: Iterable[int] = ()) -> list[Target]:
    """Marks (or the highlighted line) as targets, in a stable order."""
    out: list[Target] = [ResultTarget(i) for i in sorted(set(result_ids))]
    out += [RecordTarget(i) for i in sorted(set(record_ids))]
    return out


def select_by_filter(history: History, flt: str | Filter | None, limit: int | None = None) -> list[Target]:
    """Every stored Result matching the filter (newest first), as targets."""
    out: list[Target] = []
    token = None
    while True:
        page = history.list_results(flt, page_token=token, limit=PAGE)
        out.extend(ResultTarget(r.id) for r in page.items)
        if limit is not None and len(out) >= limit:
            return out[:limit]
        token = page.next_token
        if not token:
            return out


# --- keep rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeepRule:
    """`--keep N` and/or `--keep-since D`: a run is kept if EITHER keeps it (per pipeline)."""

    keep: int | None = None
    keep_since_s: float | None = None
    keep_since_text: str | None = None  # as the user wrote it, for the reason

    @property
    def active(self) -> bool:
        return self.keep is not None or self.keep_since_s is not None


def _group_key(r: RecordRow) -> tuple[str, str]:
    if r.pipeline:
        return (r.parent, "pipeline:" + r.pipeline)
    if r.task:
        return (r.parent, "task:" + r.task)
    return (r.parent, "(none)")


def _kept(rows: Sequence[RecordRow], rule: KeepRule, now: float) -> dict[str, str]:
    """uid -> reason for each run a keep rule keeps."""
    out: dict[str, str] = {}
    if rule.keep is not None:
        groups: dict[tuple[str, str], list[RecordRow]] = {}
        for r in rows:
            groups.setdefault(_group_key(r), []).append(r)
        for rs in groups.values():
            rs.sort(key=lambda r: (r.create_time, r.start or 0, r.id), reverse=True)
            for r in rs[: max(rule.keep, 0)]:
                out[r.uid] = f"kept by --keep {rule.keep} (per pipeline)"
    if rule.keep_since_s is not None:
        cutoff = now - rule.keep_since_s
        for r in rows:
            if r.uid in out:
                continue
            t = r.end if r.end is not None else r.create_time
            if t >= cutoff:
                out[r.uid] = f"kept by --keep-since {rule.keep_since_text or _fmt_age(rule.keep_since_s)}"
    return out


# --- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildRef:
    """A stored child of a PipelineRun that a delete takes with it."""

    kind: str  # TaskRun | CustomRun
    name: str
    uid: str
    rv: int  # its stored resourceVersion: it must still be the live one when its PipelineRun is deleted


@dataclass(frozen=True)
class RunRef:
    """A stored run as the plan and the executor need it."""

    record_id: int
    result_id: int
    kind: str  # a kinds.RUN_KINDS name
    namespace: str
    name: str
    uid: str
    rv: int  # the stored resourceVersion: the delete's precondition
    cluster: str
    status: str
    pipeline: str | None = None
    end: int | None = None
    children: tuple[str, ...] = ()  # names of the stored children still in the cluster that go with it
    child_refs: tuple[ChildRef, ...] = ()  # those children, with their kinds and stored resourceVersions

    @property
    def run_kind(self) -> kinds.RunKind:
        return kinds.BY_NAME[self.kind]

    @property
    def plural(self) -> str:
        return self.run_kind.plural

    def leaving(self, kind: str) -> int:
        """Runs of `kind` that leave the cluster with this delete (itself and its children)."""
        return (self.kind == kind) + sum(1 for c in self.child_refs if c.kind == kind)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class Deletable:
    run: RunRef


@dataclass(frozen=True)
class Skipped:
    run: RunRef
    reason: str


Item = Deletable | Skipped


@dataclass
class CleanupPlan:
    """Per run: Deletable or Skipped(reason in words). `read_only` plans can never be executed."""

    cluster: str
    items: list[Item] = field(default_factory=list)
    read_only: bool = False
    made_at: float = 0.0

    @property
    def deletable(self) -> list[RunRef]:
        return [i.run for i in self.items if isinstance(i, Deletable)]

    @property
    def skipped(self) -> list[Skipped]:
        return [i for i in self.items if isinstance(i, Skipped)]

    def leaving(self, kind: str) -> int:
        """Runs of `kind` that leave the cluster: deleted ones plus the children of deleted PipelineRuns."""
        return sum(r.leaving(kind) for r in self.deletable)

    @property
    def pipelineruns(self) -> int:
        return self.leaving(kinds.PIPELINE_RUN.name)

    @property
    def taskruns(self) -> int:
        return self.leaving(kinds.TASK_RUN.name)

    def key(self) -> list[tuple[str, str, str]]:
        """(uid, "delete" | "skip", reason): what two front ends must agree on."""
        return [(i.run.uid, "delete", "") if isinstance(i, Deletable) else (i.run.uid, "skip", i.reason)
                for i in self.items]

    def summary(self) -> str:
        n = len(self.deletable)
        if not n:
            return "nothing to delete"
        parts = [_count(self.pipelineruns, kinds.PIPELINE_RUN.name)]
        if self.taskruns or not self.pipelineruns:
            parts.append(_count(self.taskruns, kinds.TASK_RUN.name))
        others = [k for k in kinds.RUN_KINDS if k not in (kinds.PIPELINE_RUN, kinds.TASK_RUN)]
        parts += [_count(self.leaving(k.name), k.name) for k in others if self.leaving(k.name)]
        return f"{_count(n, 'run')} to delete ({', '.join(parts)})"


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _fmt_age(s: float) -> str:
    s = int(s)
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= n:
            return f"{s // n}{unit}"
    return f"{s}s"


def run_children_text(run: RunRef) -> str:
    """"3 TaskRuns, 1 CustomRun": the children that go with a PipelineRun."""
    counts = {k.name: sum(1 for c in run.child_refs if c.kind == k.name) for k in kinds.CHILD_KINDS}
    return ", ".join(_count(n, kind) for kind, n in counts.items() if n)


def run_line(run: RunRef, now: float) -> str:
    """One run as a line: kind ns/name, its children, status and completion age."""
    extra = f" (+{run_children_text(run)})" if run.child_refs else ""
    when = f", ended {_fmt_age(now - run.end)} ago" if run.end is not None else ""
    return f"{run.label}{extra}  {run.status.lower()}{when}"


def plan_lines(plan: CleanupPlan, now: float, max_gone: int = 0) -> list[str]:
    """The plan as text lines; both the CLI and the dialog show exactly these lines.

    Runs already gone from the cluster are summed up in one line (a filter over the
    history matches many of them) unless `max_gone` asks to list that many.
    """
    out = [f'{plan.summary()} ' + (f'from cluster "{plan.cluster}"' if plan.cluster else "from the cluster")]
    if plan.deletable:
        out.append("Will delete:")
        out += ["  " + run_line(r, now) for r in plan.deletable]
    skipped = plan.skipped
    gone = [s for s in skipped if s.reason == GONE]
    other = [s for s in skipped if s.reason != GONE]
    if other or gone:
        out.append(f"Will skip {len(skipped)}:")
        out += [f"  {s.run.label}  — {s.reason}" for s in other]
        out += [f"  {s.run.label}  — {s.reason}" for s in gone[:max_gone]]
        if len(gone) > max_gone:
            out.append(f"  {_count(len(gone) - max_gone, 'more run')} {GONE}" if max_gone else
                       f"  {_count(len(gone), 'run')} {GONE}")
    return out


class _Planner:
    """One plan's lookups, with the small caches that make a bulk plan cheap."""

    def __init__(self, history: History, cluster: str, now: float, require_logs: bool, require_events: bool) -> None:
        self.h, self.cluster, self.now = history, cluster, now
        self.require_logs, self.require_events = require_logs, require_events
        self._records: dict[int, list[RecordRow]] = {}

    def records_of(self, result_id: int) -> list[RecordRow]:
        got = self._records.get(result_id)
        if got is None:
            got = self._records[result_id] = self.h.records_of(result_id)
        return got

    def resolve(self, t: Target) -> list[RecordRow] | str:
        """The run rows a target stands for, or why there are none."""
        if isinstance(t, ResultTarget):
            runs = [r for r in self.records_of(t.result_id) if kinds.is_run(r.kind) and r.top_level]
            return runs or "its top-level run is not stored"
        rec = self.h.get_record(id=t.record_id)
        if rec is None:
            return "not stored"
        if not kinds.is_run(rec.kind):
            run = self.h.get_record(uid=rec.run_uid, cluster=rec.cluster)
            return [run] if run is not None else "its run is not stored"
        return [rec]

    def owner_uid(self, rec: RecordRow) -> str | None:
        """The run owning a child run (from its stored object's ownerReferences)."""
        rk = kinds.run_kind(rec.kind)
        if rk is None or rk.parent is None or rec.top_level:
            return None
        obj = self.h.record_object(rec.id) or {}
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
            if isinstance(ref, dict) and ref.get("kind") == rk.parent and ref.get("uid"):
                return str(ref["uid"])
        return None

    def children(self, pr: RecordRow) -> tuple[list[RecordRow], str | None]:
        """The child runs of a PipelineRun still in the cluster, or the first reason it must wait."""
        child_kinds = {k.name for k in kinds.children_of(pr.kind)}
        obj = self.h.record_object(pr.id) or {}
        refs = [c for c in ((obj.get("status") or {}).get("childReferences") or [])
                if isinstance(c, dict) and c.get("kind", kinds.TASK_RUN.name) in child_kinds and c.get("name")]
        mine = [r for r in self.records_of(pr.result_id) if r.kind in child_kinds and not r.top_level]
        by_name: dict[tuple[str, str], list[RecordRow]] = {}
        for r in mine:
            by_name.setdefault((r.kind, r.run_name), []).append(r)
        kids: dict[str, RecordRow] = {}
        for ref in refs:
            kind, name = str(ref.get("kind", kinds.TASK_RUN.name)), str(ref["name"])
            cands = [r for r in by_name.get((kind, name), []) if self.owner_uid(r) == pr.uid]
            if not cands:  # grouped into another Result (an explicit result annotation)
                cands = [r for r in self.h.find_runs(name, pr.parent, cluster=pr.cluster)
                         if r.kind == kind and self.owner_uid(r) == pr.uid]
            if not cands:
                return [], f"child {kind} {name} not stored"
            kids[cands[0].uid] = cands[0]
        for r in mine:  # the store may know children the stored status does not list yet
            if r.uid not in kids and r.in_cluster and self.owner_uid(r) == pr.uid:
                kids[r.uid] = r
        live = sorted((k for k in kids.values() if k.in_cluster), key=lambda r: (kinds.RANK[r.kind], r.run_name))
        for k in live:
            if not k.final:
                return [], f"child {k.kind} {k.run_name} running (final state not stored yet)"
        for k in live:
            why = self.aux_missing(k)
            if why:
                return [], f"child {k.kind} {k.run_name}: {why}"
        return live, None

    def aux_missing(self, rec: RecordRow) -> str | None:
        rk = kinds.run_kind(rec.kind)
        if self.require_logs and rk is not None and rk.step_logs:
            log_rec = self.h.log_record_for(rec.uid, cluster=rec.cluster)
            if log_rec is None:
                return "logs not stored yet"
            if any(s.state == "error" for s in self.h.step_logs(log_rec.id)):
                return "logs not stored yet (a step's log could not be read; retrying)"
        if self.require_events and self.h.get_record(uid=g.derived_uid(rec.uid, "EventList"), cluster=rec.cluster) is None:
            return "events not stored yet"
        return None

    def parent_running(self, rec: RecordRow) -> str | None:
        owner = self.owner_uid(rec)
        if owner is None:
            return None
        parent = self.h.get_record(uid=owner, cluster=rec.cluster)
        if parent is not None and parent.in_cluster and not parent.final:
            return f"its {parent.kind} {parent.run_name} is still running"
        return None


def _ref(r: RecordRow, children: Sequence[RecordRow] = ()) -> RunRef:
    return RunRef(record_id=r.id, result_id=r.result_id, kind=r.kind, namespace=r.parent, name=r.run_name, uid=r.uid,
                  rv=r.rv, cluster=r.cluster, status=r.status, pipeline=r.pipeline, end=r.end,
                  children=tuple(c.run_name for c in children),
                  child_refs=tuple(ChildRef(c.kind, c.run_name, c.uid, c.rv) for c in children))


def _placeholder(history: History, t: Target) -> RunRef:
    """A RunRef for a target that resolves to no run (so the skip can still be listed)."""
    if isinstance(t, ResultTarget):
        row: ResultRow | None = history.get_result(id=t.result_id)
        name = (row.display_name or row.name) if row else f"result {t.result_id}"
        return RunRef(-1, t.result_id, kinds.PIPELINE_RUN.name, row.parent if row else "?", name,
                      (row.uid if row else f"result:{t.result_id}"), 0, row.cluster if row else "", "UNKNOWN")
    return RunRef(t.record_id, -1, kinds.TASK_RUN.name, "?", f"record {t.record_id}", f"record:{t.record_id}", 0, "", "UNKNOWN")


def plan(history: History, targets: Iterable[Target], cluster: str, now: float | None = None, *,
         keep: KeepRule | None = None, require_logs: bool = False, require_events: bool = False,
         read_only: bool = False) -> CleanupPlan:
    """Decide, per run, Deletable or Skipped(reason). Reads the store only; deletes nothing."""
    now = time.time() if now is None else now
    p = _Planner(history, cluster, now, require_logs, require_events)
    out = CleanupPlan(cluster=cluster, read_only=read_only or history.read_only, made_at=now)
    rows: list[RecordRow] = []
    seen: set[str] = set()
    for t in targets:
        if isinstance(t, ResultTarget):  # a Result gone from the cluster needs no record lookups
            res = history.get_result(id=t.result_id)
            if res is not None and not res.in_cluster and res.summary_record:
                rec = history.get_record(name=res.summary_record)
                if rec is not None and rec.uid not in seen:
                    seen.add(rec.uid)
                    out.items.append(Skipped(_ref(rec), GONE))
                continue
        got = p.resolve(t)
        if isinstance(got, str):
            ph = _placeholder(history, t)
            if ph.uid not in seen:
                seen.add(ph.uid)
                out.items.append(Skipped(ph, got))
            continue
        for r in got:
            if r.uid not in seen:
                seen.add(r.uid)
                rows.append(r)
    kept = _kept([r for r in rows if r.in_cluster], keep, now) if keep is not None and keep.active else {}
    decided: list[tuple[RecordRow, list[RecordRow], str | None]] = []
    for r in rows:
        kids: list[RecordRow] = []
        why: str | None = None
        if r.cluster != cluster:
            why = f'stored for cluster "{r.cluster}", not "{cluster}"'
        elif not r.in_cluster:
            why = GONE
        elif not r.final:
            why = RUNNING if r.status == g.UNKNOWN else "final state not stored yet"
        elif r.uid in kept:
            why = kept[r.uid]
        elif not kinds.children_of(r.kind):
            why = p.parent_running(r) or p.aux_missing(r)
        else:
            why = p.aux_missing(r)
            if why is None:
                kids, why = p.children(r)
        decided.append((r, kids, why))
    # a child whose PipelineRun is deleted in this plan goes with it (background propagation)
    going = {r.uid for r, _, why in decided if why is None and kinds.children_of(r.kind)}
    for r, kids, why in decided:
        if why is None:
            if p.owner_uid(r) in going:
                continue
            out.items.append(Deletable(_ref(r, kids)))
        else:
            out.items.append(Skipped(_ref(r), why))
    return out
