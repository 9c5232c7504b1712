"""Reading the runs a diff compares from the history: a run with its children, and its last success.

Two reads per run (the object; its Result's children in one read), whatever the run's size. Runs
gone from the cluster are read the same way: the history keeps them.
"""

from __future__ import annotations

from tekton_results_tui import kinds
from tekton_results_tui.insights.diff import RunDiff, RunSide, diff_runs
from tekton_results_tui.store.diff_reads import NothingToMatch, last_success_before, run_objects_of
from tekton_results_tui.store.history import History, RecordRow

__all__ = ["NothingToMatch", "diff_of", "last_success", "side_of"]


def _owned_by(child: dict, run: RecordRow) -> bool:
    """Whether a child run belongs to this run (a Result can hold several PipelineRuns, e.g. one per trigger event)."""
    meta = child.get("metadata") if isinstance(child.get("metadata"), dict) else {}
    owners = [o for o in meta.get("ownerReferences") or [] if isinstance(o, dict)]
    if owners:
        return any(o.get("uid") == run.run_uid for o in owners)
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    return labels.get(f"tekton.dev/{run.kind[0].lower()}{run.kind[1:]}") == run.run_name


def _owned_children(run: RecordRow, result_id: int, child_kinds: set[str]) -> list[dict]:
    return [o for o in run_objects_of(result_id, sorted(child_kinds)) if isinstance(o, dict) and _owned_by(o, run)]


def side_of(h: History, run: RecordRow) -> RunSide:
    """A stored run and (for a kind that owns runs) its stored children."""
    obj = h.record_object(run.id) or {}
    children: list[dict] = []
    child_kinds = {k.name for k in kinds.children_of(run.kind)}
    if child_kinds:
        children = _owned_children(run, run.result_id, child_kinds)
        if not children:
            # children normally share their parent's Result (Tekton copies its labels and annotations onto
            # them); ones that did not (an import without them) were grouped by their owner's uid
            res = h.get_result(name=f"{run.parent}/results/{run.run_uid}", cluster=run.cluster)
            if res is not None and res.id != run.result_id:
                children = _owned_children(run, res.id, child_kinds)
    return RunSide(obj, children, run.name, run.in_cluster)


def diff_of(h: History, a: RecordRow, b: RecordRow) -> RunDiff:
    return diff_runs(side_of(h, a), side_of(h, b))


def last_success(h: History, run: RecordRow) -> RecordRow | None:
    """The newest successful run of the same pipeline (or task) in the run's namespace and cluster,
    older than it (store/diff_reads.py says what "same" means). Raises NothingToMatch when the run
    names no pipeline or task. (The store's read runs on the database `h` opened.)"""
    return last_success_before(run)
