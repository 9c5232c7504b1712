"""The reads comparing runs needs beyond the History API: the last successful run like a given one.

"Like" means the same kind, namespace and cluster, running the same thing: the same pipeline for a
PipelineRun; for a TaskRun inside a pipeline, the same pipeline task of the same pipeline (whatever
Task it ran, embedded specs included: a git-clone Task used by ten pipelines is compared with its
own pipeline's runs); for a standalone TaskRun, the same Task. "Before" is by creation time (ties
by row id).

How it is found without reading every successful run (measured on 120k Records: walking the
(status, start) index back past a pipeline's long gap read ~0.9 s of rows, most of them other
pipelines'): a run inside a pipeline's Result is looked for by walking that pipeline's Results
newest first on the Result (pipeline, sort_time) index, and within each only its few Records by the
(result, start) index — the walk is as long as that pipeline's own history, and stops at the first
success. The Result's pipeline is its top-level run's, so a PipelineRun that shares a Result with
another pipeline's run (one trigger event starting two pipelines) is found only when it is the one
that wrote the summary. Runs outside any pipeline's Result (standalone TaskRuns, PipelineRuns owned
by something else) are looked for among the Records of their task (task index) or kind.
"""

from __future__ import annotations

from typing import Any, Sequence

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.models import Record, Result
from tekton_results_tui.store.rows import RECORD_COLS, RecordRow, record_row
from tekton_results_tui.store.sql import loads_json


def run_objects_of(result_id: int, kinds_: Sequence[str]) -> list[Any]:
    """The stored objects of a Result's runs of these kinds, in one read.

    (records_of + record_objects read each row twice: on SQLite the index columns sit after the
    object, so listing the rows already reads the objects' pages: reading two PipelineRuns with 50
    TaskRuns each took ~25 ms that way, ~12 ms this way.)
    """
    q = Record.select(Record.data).where((Record.result == result_id) & (Record.kind << list(kinds_)))
    return [loads_json(raw, None) for (raw,) in q.order_by(Record.id).tuples()]


class NothingToMatch(ValueError):
    """The run names no pipeline or task, so no other run can be said to run the same thing."""


def _same_thing(run: RecordRow):  # noqa: ANN202 - a peewee expression
    """Records that run what `run` runs (raises NothingToMatch when it names nothing)."""
    if run.kind == kinds.PIPELINE_RUN.name:
        if not run.pipeline:
            raise NothingToMatch(f"{run.kind} {run.parent}/{run.run_name} names no pipeline")
        return Record.pipeline == run.pipeline
    if run.pipeline and run.pipeline_task:  # the same task of the same pipeline, whatever Task it ran
        return (Record.pipeline == run.pipeline) & (Record.pipeline_task == run.pipeline_task)
    if not run.task:
        raise NothingToMatch(f"{run.kind} {run.parent}/{run.run_name} names no task")
    return Record.task == run.task


def last_success_before(run: RecordRow) -> RecordRow | None:
    """The newest SUCCESS run like `run` created before it, or None. Raises NothingToMatch."""
    like = (_same_thing(run) & (Record.status == g.SUCCESS) & (Record.kind == run.kind)
            & (Record.parent == run.parent) & (Record.cluster == run.cluster) & (Record.id != run.id)
            & ((Record.create_time < run.create_time) | ((Record.create_time == run.create_time) & (Record.id < run.id))))
    home = Result.select(Result.pipeline, Result.sort_time).where(Result.id == run.result_id).tuples().first()
    pipeline, sort_time = home if home else (None, None)
    if run.pipeline and pipeline == run.pipeline and sort_time is not None:
        row = (Record.select(*RECORD_COLS).join(Result, on=(Record.result == Result.id))
               .where(like & (Result.pipeline == run.pipeline) & (Result.parent == run.parent)
                      & (Result.cluster == run.cluster) & (Result.sort_time <= sort_time))
               .order_by(Result.sort_time.desc(), Result.id.desc(), Record.create_time.desc(), Record.id.desc())
               .limit(1).tuples().first())
    else:
        row = (Record.select(*RECORD_COLS).where(like)
               .order_by(Record.create_time.desc(), Record.id.desc()).limit(1).tuples().first())
    return record_row(row) if row else None
