"""Result and Record rows -> documents with Tekton Results' field names (plus our own).

Tekton Results (v1alpha2 API) names: Result{name, uid, annotations, summary{record, type,
status, start_time, end_time, annotations}, create_time, update_time}; Record{name, uid,
type, data, create_time, update_time}. Ours follow them: cluster, in_cluster, gone_time,
display_name, pipeline, warnings, record_count, ...  Times are RFC 3339 UTC.

The JSON columns of a page are read in one query per page (not one per row).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from tekton_results_tui.commands import output
from tekton_results_tui.store.grouping import format_time

if TYPE_CHECKING:
    from tekton_results_tui.store.history import History, RecordRow, ResultRow


def result_documents(rows: Sequence[ResultRow], history: History) -> list[dict]:
    # loaded when the command runs: every start builds the parser, whose `results` imports this module
    from tekton_results_tui.insights.eta import page_etas

    ids = [r.id for r in rows]
    details = history.result_details_of(ids)
    counts = history.record_counts(ids)
    etas = page_etas(history, rows)  # running PipelineRuns: when they should end, from their pipeline's past
    out = []
    for r in rows:
        d = details.get(r.id, {})
        ann, sann, warn = d.get("annotations", {}), d.get("summary_annotations", {}), d.get("warnings", [])
        out.append({
            "name": r.name,
            "uid": r.uid,
            "annotations": ann,
            "summary": {
                "record": r.summary_record,
                "type": r.summary_type,
                "status": r.status,
                "start_time": format_time(r.start),
                "end_time": format_time(r.end),
                "annotations": sann,
            },
            "create_time": format_time(r.create_time),
            "update_time": format_time(r.update_time),
            # ours
            "cluster": r.cluster,
            "namespace": r.parent,
            "display_name": r.display_name,
            "pipeline": r.pipeline,
            "reason": r.reason,
            "duration_seconds": r.duration,
            "in_cluster": r.in_cluster,
            "gone_time": format_time(r.gone_at),
            "record_count": counts.get(r.id, 0),
            "warnings": warn,
            "eta": etas[r.id].document() if r.id in etas else None,
        })
    return out


def record_documents(rows: Sequence[RecordRow], history: History) -> list[dict]:
    data = history.record_objects([r.id for r in rows])
    out = []
    for r in rows:
        out.append({
            "name": r.name,
            "uid": r.uid,
            "type": r.type,
            "data": data.get(r.id),
            "create_time": format_time(r.create_time),
            "update_time": format_time(r.update_time),
            # ours
            "result": r.name.rsplit("/records/", 1)[0],
            "cluster": r.cluster,
            "namespace": r.parent,
            "kind": r.kind,
            "run_name": r.run_name,
            "run_uid": r.run_uid,
            "status": r.status or None,
            "reason": r.reason,
            "start_time": format_time(r.start),
            "end_time": format_time(r.end),
            "duration_seconds": r.duration,
            "pipeline": r.pipeline,
            "pipeline_task": r.pipeline_task,
            "task": r.task,
            "resource_version": str(r.rv),
            "in_cluster": r.in_cluster,
            "deleted_time": format_time(r.deleted_at),
            "final": r.final,
        })
    return out


# --- words for tables ------------------------------------------------------------------

_STATUS_WORDS = {"SUCCESS": "Succeeded", "FAILURE": "Failed", "CANCELLED": "Cancelled", "TIMEOUT": "Timeout"}


def status_word(status: str | None, end: int | None, start: int | None, reason: str | None = None) -> str:
    """Table STATUS: Succeeded, Failed, Cancelled, Timeout, Running (started, no end), Pending or Unknown."""
    if status in _STATUS_WORDS:
        return _STATUS_WORDS[status]
    if not status:
        return ""
    if end is None and start is not None:
        return "Running"
    return "Pending" if reason and "Pending" in reason else "Unknown"


# --- tables ----------------------------------------------------------------------------


def many_clusters(history: History) -> bool:
    """Whether the history holds Results of more than one cluster (cheap on a history of millions)."""
    return history.many_clusters()


def _framed(headers: list[str], cells: list[list[Any]], rows: Sequence[ResultRow] | Sequence[RecordRow],
            name_header: str, cluster_column: bool, wide: bool) -> tuple[list[str], list[list[Any]]]:
    """-o wide appends the full name under `name_header`; CLUSTER goes first when asked or wide."""
    if wide:
        headers.append(name_header)
        for c, r in zip(cells, rows):
            c.append(r.name)
    if cluster_column or wide:
        headers.insert(0, "CLUSTER")
        for c, r in zip(cells, rows):
            c.insert(0, r.cluster)
    return headers, cells


def result_table(rows: Sequence[ResultRow], now: float, cluster_column: bool,
                 wide: bool = False) -> tuple[list[str], list[list[Any]]]:
    """Headers and cells of `results`: CLUSTER first when asked (a history of several clusters, or
    -o wide); -o wide adds the Result name (what `records --result` takes)."""
    headers = ["NAME", "NAMESPACE", "STATUS", "REASON", "PIPELINE", "STARTED", "DURATION", "IN-CLUSTER"]
    cells = [[r.display_name or r.name.rsplit("/", 1)[-1], r.parent, status_word(r.status, r.end, r.start, r.reason),
              r.reason, r.pipeline, output.age(r.start if r.start is not None else r.sort_time, now),
              output.human_duration(r.duration) if r.duration is not None else "", r.in_cluster] for r in rows]
    return _framed(headers, cells, rows, "RESULT", cluster_column, wide)


def record_table(rows: Sequence[RecordRow], now: float, cluster_column: bool,
                 wide: bool = False) -> tuple[list[str], list[list[Any]]]:
    """Headers and cells of `records` (CLUSTER as in result_table; -o wide adds the Record name)."""
    headers = ["NAME", "NAMESPACE", "KIND", "STATUS", "REASON", "PIPELINE", "TASK", "STARTED", "DURATION",
               "IN-CLUSTER", "FINAL"]
    cells = [[r.run_name, r.parent, r.kind, status_word(r.status, r.end, r.start, r.reason), r.reason, r.pipeline,
              r.pipeline_task or r.task, output.age(r.start if r.start is not None else r.create_time, now),
              output.human_duration(r.duration) if r.duration is not None else "", r.in_cluster, r.final]
             for r in rows]
    return _framed(headers, cells, rows, "RECORD", cluster_column, wide)
