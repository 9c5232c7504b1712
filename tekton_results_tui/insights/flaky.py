"""Flaky runs and tasks: the same code gave different outcomes.

A run is flaky when another finished run of the same pipeline (same cluster and namespace) on the
same source revision had the other outcome. Outcomes are *passed* (Succeeded) and *failed* (failed
or timed out); a cancel is a person's decision and is neither evidence nor flagged. A task is flaky
when its TaskRun failed and was retried to success (`status.retriesStatus`), or when the same
pipeline task both failed and passed on one revision.

The revision comes from the Pipelines-as-Code `sha` label or annotation, the `revision`,
`git-revision` or `commit` param, or a key the user names (looked up as a label, param and annotation).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from tekton_results_tui.store import insights_reads as reads
from tekton_results_tui.store.history import History, RecordRow

PASSED = frozenset(reads.PASSED)
FAILED = frozenset(reads.FAILED)


@dataclass(frozen=True)
class RunOutcome:
    """One finished run as flaky detection needs it."""

    id: int
    identity: tuple  # runs with equal identities run the same code path (pipeline, or pipeline task)
    revision: str | None
    status: str  # SUCCESS | FAILURE | TIMEOUT | CANCELLED
    retries: int = 0  # failed attempts before the recorded one
    name: str = ""


@dataclass(frozen=True)
class Flakiness:
    """Why a run is flaky: it passed on a retry, or its revision also gave the other outcome."""

    how: str  # "retry" | "revision"
    attempt: int | None = None  # retry: the attempt that passed (1 = the first try)
    attempts: int | None = None  # retry: attempts allowed (spec.retries + 1), when known
    other: str | None = None  # revision: a run on the same revision with the other outcome
    other_passed: bool | None = None
    task: str | None = None  # a PipelineRun flaky through one of its tasks

    def line(self) -> str:
        """The Summary line: "flaky: passed on retry 2 of 3" / "flaky: same revision passed in run X"."""
        who = f"task {self.task} " if self.task else ""
        if self.how == "retry":
            of = f" of {self.attempts}" if self.attempts else ""
            return f"flaky: {who}passed on retry {self.attempt}{of}"
        verb = "passed" if self.other_passed else "failed"
        return f"flaky: {who}same revision {verb} in run {self.other}"


def outcome(status: str) -> str | None:
    """'pass', 'fail', or None (running, cancelled, unknown)."""
    if status in PASSED:
        return "pass"
    if status in FAILED:
        return "fail"
    return None


def find_flaky(runs: Iterable[RunOutcome]) -> dict[int, Flakiness]:
    """Run id -> why it is flaky, for every flaky run among `runs` (the evidence and the judged alike)."""
    out: dict[int, Flakiness] = {}
    by_rev: dict[tuple, list[RunOutcome]] = defaultdict(list)
    for r in runs:
        if r.retries > 0 and r.status in PASSED:
            out[r.id] = Flakiness("retry", attempt=r.retries + 1)
        if r.revision is not None and outcome(r.status) is not None:
            by_rev[(r.identity, r.revision)].append(r)
    for group in by_rev.values():
        passed = [r for r in group if outcome(r.status) == "pass"]
        failed = [r for r in group if outcome(r.status) == "fail"]
        if not passed or not failed:
            continue
        newest_pass = max(passed, key=lambda r: r.id)
        newest_fail = max(failed, key=lambda r: r.id)
        for r in failed:
            out.setdefault(r.id, Flakiness("revision", other=newest_pass.name, other_passed=True))
        for r in passed:
            out.setdefault(r.id, Flakiness("revision", other=newest_fail.name, other_passed=False))
    return out


def retry_flakiness(taskrun: dict) -> Flakiness | None:
    """A TaskRun object that failed and was retried to success: which attempt passed, of how many."""
    status = taskrun.get("status") if isinstance(taskrun.get("status"), dict) else {}
    retries = status.get("retriesStatus")
    if not isinstance(retries, list) or not retries or not _succeeded(taskrun):
        return None
    spec = taskrun.get("spec") if isinstance(taskrun.get("spec"), dict) else {}
    allowed = spec.get("retries")
    attempts = allowed + 1 if isinstance(allowed, int) and not isinstance(allowed, bool) and allowed >= 0 else None
    return Flakiness("retry", attempt=len(retries) + 1, attempts=attempts)


def _succeeded(obj: dict) -> bool:
    conds = (obj.get("status") or {}).get("conditions") if isinstance(obj.get("status"), dict) else None
    for c in conds if isinstance(conds, list) else []:
        if isinstance(c, dict) and c.get("type") == "Succeeded":
            return c.get("status") == "True"
    return False


def revision_of(obj: dict, revision_key: str | None = None) -> str | None:
    """The source revision a run object names (same order of lookup as the store's)."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    params = {p.get("name"): p.get("value") for p in spec.get("params") or [] if isinstance(p, dict)} \
        if isinstance(spec.get("params"), list) else {}
    if revision_key:
        candidates: Sequence[Any] = (labels.get(revision_key), params.get(revision_key), annotations.get(revision_key))
    else:
        candidates = (labels.get(reads.REVISION_LABEL), *(params.get(n) for n in reads.REVISION_PARAMS),
                      annotations.get(reads.REVISION_LABEL))
    for v in candidates:
        if v is not None:
            return v if isinstance(v, str) else str(v)
    return None


# --- one run, from the store --------------------------------------------------------------------------


def run_flakiness(h: History, run: RecordRow, revision_key: str | None = None) -> Flakiness | None:
    """Why this stored run is flaky, or None: its (or, for a PipelineRun, one of its tasks') retries to
    success, else another finished run of its pipeline on the same revision with the other outcome."""
    me = outcome(run.status)
    if run.kind == "TaskRun":
        obj = h.record_object(run.id) or {}
        found = retry_flakiness(obj)
        if found is not None:
            return found
        if me is None or not run.pipeline_task:
            return None
        for sib in reads.same_revision_taskruns(h.db, run.result_id, run.pipeline_task, revision_key):
            if outcome(sib.status) not in (None, me):
                return Flakiness("revision", other=sib.name, other_passed=outcome(sib.status) == "pass")
        return None
    if me is not None:
        for sib in reads.same_revision_runs(h.db, run.result_id, revision_key):
            if outcome(sib.status) not in (None, me):
                return Flakiness("revision", other=sib.name, other_passed=outcome(sib.status) == "pass")
    for child in h.records_of(run.result_id):
        if child.kind == "TaskRun" and child.status in PASSED:
            found = retry_flakiness(h.record_object(child.id) or {})
            if found is not None:
                return Flakiness("retry", attempt=found.attempt, attempts=found.attempts,
                                 task=child.pipeline_task or child.run_name)
    return None
