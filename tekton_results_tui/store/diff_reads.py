"""The reads comparing runs needs beyond the History API: the last successful run like a given one.

"Like" means the same kind, namespace and cluster, running the same thing: the same pipeline for a
PipelineRun; the same task for a TaskRun, and when the TaskRun ran inside a pipeline, the same
pipeline and pipeline task too (a git-clone Task used by ten pipelines is compared with its own
pipeline's runs). "Older" is by start time (creation time for a run that never started), ties by
row id. One indexed read: SUCCESS rows by (status, start), newest first, stop at the first match.
"""

from __future__ import annotations

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.models import Record
from tekton_results_tui.store.rows import RECORD_COLS, RecordRow, record_row


class NothingToMatch(ValueError):
    """The run names no pipeline or task, so no other run can be said to run the same thing."""


def last_success_before(run: RecordRow) -> RecordRow | None:
    """The newest SUCCESS run like `run` that started before it, or None. Raises NothingToMatch."""
    q = Record.select(*RECORD_COLS).where(
        (Record.status == g.SUCCESS) & (Record.kind == run.kind) & (Record.parent == run.parent)
        & (Record.cluster == run.cluster) & (Record.id != run.id)
    )
    if run.kind == kinds.PIPELINE_RUN.name:
        if not run.pipeline:
            raise NothingToMatch(f"{run.kind} {run.parent}/{run.run_name} names no pipeline")
        q = q.where(Record.pipeline == run.pipeline)
    else:
        if not run.task:
            raise NothingToMatch(f"{run.kind} {run.parent}/{run.run_name} names no task")
        q = q.where(Record.task == run.task)
        if run.pipeline_task:
            q = q.where((Record.pipeline_task == run.pipeline_task)
                        & ((Record.pipeline == run.pipeline) if run.pipeline else Record.pipeline.is_null()))
    at = run.start if run.start is not None else run.create_time
    q = q.where((Record.start < at) | ((Record.start == at) & (Record.id < run.id)))
    row = q.order_by(Record.start.desc(), Record.id.desc()).limit(1).tuples().first()
    return record_row(row) if row else None
