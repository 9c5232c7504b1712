"""When will a running PipelineRun end? From the median (p50) duration of its pipeline's recent
successful runs (same cluster, namespace and pipeline), and per task from the same runs' TaskRuns.

An ETA is a guess and says what it rests on: how many past runs, and whether the run is already
past its usual duration (then it is "overdue" and no end is promised).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from tekton_results_tui import kinds
from tekton_results_tui.insights.percentiles import percentile
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store import insights_reads as reads
from tekton_results_tui.store.history import History, RecordRow, ResultRow

RECENT_RUNS = 20  # successful runs an ETA learns from
_PIPELINERUN_TYPES = kinds.PIPELINE_RUN.record_types


@dataclass(frozen=True)
class Eta:
    expected_end: int  # epoch seconds: start + p50
    p50_seconds: float
    progress: float  # elapsed / p50, capped to 0..1
    remaining_seconds: float  # 0 when overdue
    overdue: bool
    basis: int  # past runs it rests on

    def document(self) -> dict:
        return {"expected_end": g.format_time(self.expected_end), "p50_seconds": self.p50_seconds,
                "progress": round(self.progress, 4), "remaining_seconds": round(self.remaining_seconds),
                "overdue": self.overdue, "basis": self.basis}


@dataclass
class RunEta:
    run: Eta
    tasks: dict[str, Eta] = field(default_factory=dict)  # running pipeline task -> its ETA


def eta_for(start: int, now: float, durations: Sequence[int]) -> Eta | None:
    """The ETA of something that started at `start`, from past durations (None without any)."""
    if not durations:
        return None
    p50 = percentile(sorted(durations), 50)
    assert p50 is not None
    elapsed = max(0.0, now - start)
    expected = start + round(p50)
    overdue = elapsed > p50
    progress = 1.0 if p50 <= 0 else min(1.0, elapsed / p50)
    return Eta(expected, p50, progress, 0.0 if overdue else max(0.0, expected - now), overdue, len(durations))


def run_eta(h: History, run: RecordRow, limit: int = RECENT_RUNS) -> RunEta | None:
    """ETA of a running, started PipelineRun and of its running TaskRuns; None when it is not running,
    has no pipeline, or the pipeline has no successful run to learn from."""
    if run.kind != kinds.PIPELINE_RUN.name or run.status != g.UNKNOWN or run.start is None or not run.pipeline:
        return None
    now = h.clock()
    totals, per_task = reads.recent_durations(h.db, run.cluster, run.parent, run.pipeline, before=run.start,
                                              limit=limit)
    overall = eta_for(run.start, now, totals)
    if overall is None:
        return None
    out = RunEta(overall)
    for child in h.records_of(run.result_id):
        if child.kind == "TaskRun" and child.status == g.UNKNOWN and child.start is not None:
            name = child.pipeline_task or child.task
            e = eta_for(child.start, now, per_task.get(name or "", []))
            if name and e is not None:
                out.tasks[name] = e
    return out


def progress_bar(fraction: float, width: int) -> str:
    """`width` cells filled to `fraction` (0..1) with eighth-cell precision: '████▌     '."""
    width = max(0, int(width))
    eighths = round(min(1.0, max(0.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")
    return bar.ljust(width)


def page_etas(h: History, rows: Sequence[ResultRow], limit: int = RECENT_RUNS) -> dict[int, Eta]:
    """Result id -> ETA for the running PipelineRuns among a page of Results (`eta` in `results -o json`).

    One read of recent durations per (cluster, namespace, pipeline) on the page, not per row; judged by
    the successful runs before now (per-run precision, before each run's own start, is `run_eta`'s)."""
    now = h.clock()
    learned: dict[tuple[str, str, str], list[int]] = {}
    out: dict[int, Eta] = {}
    for r in rows:
        if r.status != g.UNKNOWN or r.start is None or not r.pipeline or r.summary_type not in _PIPELINERUN_TYPES:
            continue
        key = (r.cluster, r.parent, r.pipeline)
        if key not in learned:
            learned[key] = reads.recent_durations(h.db, *key, before=int(now), limit=limit)[0]
        e = eta_for(r.start, now, learned[key])
        if e is not None:
            out[r.id] = e
    return out
