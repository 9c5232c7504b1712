"""`stats` and `timeline`: answers from the history in a shell (the database opened read-only)."""

from __future__ import annotations

import argparse
import shutil
import sys
from typing import TYPE_CHECKING, Any

from tekton_results_tui import exitcodes
from tekton_results_tui.commands import output
from tekton_results_tui.commands.args import add_db_option, add_filter_words, add_store_options
from tekton_results_tui.commands.common import check_filter, opened_history, quiet_broken_pipe, scoped_filter
from tekton_results_tui.errors import UsageError
from tekton_results_tui.kubefmt import human_duration
from tekton_results_tui.textsafe import visible

if TYPE_CHECKING:
    from tekton_results_tui.insights import eta as eta_mod
    from tekton_results_tui.insights import stats as stats_mod
    from tekton_results_tui.insights import timeline as tl_mod
    from tekton_results_tui.store.history import History, RecordRow

# `stats --by` keys, spelled here for `--help`: every start builds the parser, without the statistics' modules
# (insights/stats.py's GROUP_KEYS, from store/insights_reads.py; tests/test_startup_imports.py checks they match)
GROUP_KEYS = ("pipeline", "task", "namespace", "repository", "cluster", "day", "week")
STATS_FORMATS = ("table", "json", "yaml")
STATS_HELP = ("statistics of the runs FILTER selects, per group: counts by status, success rate, p50/p95/max "
              "duration, queue time, flaky runs, the newest run")
FILTER_HELP = ("filter words, all must match: status:failed ns:ci pipeline:build task:x label:k=v cluster:prod "
               "dur>5m, bare words; -term negates")
TIMELINE_HELP = "where a run's time went: one bar per TaskRun (or per step) on a shared time axis"
RUN_KINDS = ("PipelineRun", "TaskRun")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("stats", help=STATS_HELP, description=STATS_HELP + ". " + FILTER_HELP)
    add_filter_words(p, FILTER_HELP)
    p.add_argument("--by", default="pipeline", metavar="KEY",
                   help=f"group by one of {', '.join(GROUP_KEYS)} (default pipeline); "
                        "task counts TaskRuns, the others top-level runs")
    p.add_argument("--since", default="30d", metavar="DURATION",
                   help="only runs created this long ago or later (default 30d; 'all' = the whole history)")
    p.add_argument("--revision-key", metavar="KEY",
                   help="the label, param or annotation naming a run's source revision (for flaky detection; "
                        "default: the Pipelines-as-Code sha, or the revision/git-revision/commit param)")
    p.add_argument("-o", "--output", choices=STATS_FORMATS, default="table", help="output format")
    p.add_argument("--trend", action="store_true", help="table: add the runs per day over the window as a sparkline")
    p.add_argument("-n", "--namespace", dest="ns_filter", action="append", default=[], metavar="NS",
                   help="only this namespace (repeatable; same as the filter ns:NS)")
    add_store_options(p)
    p.set_defaults(func=run_stats)

    p = subparsers.add_parser("timeline", help=TIMELINE_HELP,
                              description=TIMELINE_HELP + ". RUN is a run name (the newest when names repeat), a "
                              "Result or Record name, or a uid.")
    p.add_argument("run", metavar="RUN")
    p.add_argument("-n", "--namespace", dest="run_namespace", metavar="NS", help="the run's namespace")
    p.add_argument("--steps", action="store_true", help="also one bar per step under each TaskRun")
    p.add_argument("--revision-key", metavar="KEY", help="the label, param or annotation naming the source revision "
                   "(for the flaky line; default: the Pipelines-as-Code sha, or the revision/git-revision/commit param)")
    p.add_argument("--width", type=int, metavar="COLUMNS", help="columns to use (default: the terminal's, else 80)")
    p.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    add_db_option(p, sub=True)
    p.set_defaults(func=run_timeline)


# --- stats -----------------------------------------------------------------------------------------


def _seconds(v: float | None) -> str:
    return "" if v is None else human_duration(round(v))


def _percent(v: float | None) -> str:
    return "" if v is None else f"{v * 100:.0f}%"


def stats_table(st: stats_mod.Stats, now: float,
                trend: dict[str, stats_mod.Trend] | None = None) -> tuple[list[str], list[list[Any]]]:
    headers = [st.by.upper(), "RUNS", "OK", "FAILED", "CANCELLED", "TIMEOUT", "RUNNING", "SUCCESS", "P50", "P95",
               "MAX", "QUEUED-P50", "FLAKY", "LAST"]
    if st.by == "pipeline":
        headers += ["SLOWEST-TASK", "MOST-FAILING"]
    if trend is not None:
        headers.append("RUNS/DAY")
    # loaded when the command runs: every start builds this parser
    from tekton_results_tui.insights.stats import sparkline

    rows = []
    for gs in st.groups:
        last = ""
        if gs.last_start_time:
            from tekton_results_tui.store.grouping import parse_time

            last = f"{output.age(parse_time(gs.last_start_time), now)} {gs.last_status or ''}".strip()
        row: list[Any] = [visible(gs.key), gs.total, gs.succeeded, gs.failed, gs.cancelled, gs.timeout, gs.running,
                          _percent(gs.success_rate), _seconds(gs.p50_seconds), _seconds(gs.p95_seconds),
                          _seconds(gs.max_seconds), _seconds(gs.queue_p50_seconds), gs.flaky, last]
        if st.by == "pipeline":
            slow, worst = gs.slowest_task, gs.most_failing_task
            row += [f"{visible(slow['name'])} ({_seconds(slow['p95_seconds'])})" if slow else "",
                    f"{visible(worst['name'])} ({worst['failed']})" if worst else ""]
        if trend is not None:
            t = trend.get(gs.key)
            row.append(sparkline(t.runs) if t else "")
        rows.append(row)
    return headers, rows


def _safe_document(doc: Any) -> Any:
    """Every string from data made visible (keys and task names may carry controls)."""
    if isinstance(doc, str):
        return visible(doc)
    if isinstance(doc, dict):
        return {k: _safe_document(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_safe_document(v) for v in doc]
    return doc


@quiet_broken_pipe
def run_stats(args: argparse.Namespace) -> int:
    from tekton_results_tui.insights import stats as stats_mod

    by = args.by.strip().lower()
    if by not in stats_mod.GROUP_KEYS:
        raise stats_mod.UnknownGroupKey(args.by)
    since = stats_mod.parse_since(args.since)
    flt = scoped_filter(args.filter, list(args.ns_filter or []) or list(getattr(args, "namespaces", None) or []))
    check_filter(flt)
    with opened_history(args, read_only=True) as h:
        st = stats_mod.statistics(h, flt, by, since, revision_key=args.revision_key)
        if args.output != "table":
            output.emit_document(_safe_document(st.document()), args.output, sys.stdout)
            return exitcodes.OK
        if not st.groups:
            window = f" in the last {human_duration(since)}" if since is not None else ""
            print(f"No runs found{window}." + (f' (filter "{visible(flt)}")' if flt else ""), file=sys.stderr)
            return exitcodes.OK
        trend = stats_mod.trends(h, flt, by, since) if args.trend else None
        output.render_table(*stats_table(st, h.clock(), trend), sys.stdout)
    return exitcodes.OK


# --- timeline ------------------------------------------------------------------------------------


def resolve_run(h: History, name: str, namespace: str | None) -> RecordRow | None:
    """A run Record from a run name (the newest), a Record or Result name, or a uid."""
    rec: RecordRow | None
    if "/records/" in name:
        rec = h.get_record(name=name)
    elif "/results/" in name:
        res = h.get_result(name=name)
        runs = [r for r in h.records_of(res.id) if r.kind in RUN_KINDS] if res else []
        tops = [r for r in runs if r.top_level] or runs
        return tops[0] if tops else None
    else:
        found = [r for r in h.find_runs(name, namespace=namespace, limit=50) if r.kind in RUN_KINDS]
        if found:
            return found[0]
        rec = h.get_record(uid=name)
    if rec is not None and rec.kind not in RUN_KINDS:
        rec = h.get_record(uid=rec.run_uid)
    return rec if rec is not None and rec.kind in RUN_KINDS else None


def timeline_of(h: History, run: RecordRow, total_width: int, eta: eta_mod.RunEta | None) -> tl_mod.Timeline:
    from tekton_results_tui.insights import timeline as tl_mod

    obj = h.record_object(run.id) or {}
    now = int(h.clock())
    if run.kind == "PipelineRun":
        ids = [r.id for r in h.records_of(run.result_id) if r.kind == "TaskRun"]
        objs = h.record_objects(ids)  # one read for the page, not one per TaskRun
        taskruns = [objs.get(i) or {} for i in ids]
        spans = tl_mod.spans_of_pipelinerun(obj, taskruns)
    else:
        spans = tl_mod.spans_of_taskrun(obj)
    return tl_mod.timeline_at(spans, total_width, now, eta.run.expected_end if eta else None)


def timeline_document(tl: tl_mod.Timeline, eta: eta_mod.RunEta | None, flaky: str | None) -> dict[str, Any]:
    from tekton_results_tui.insights import timeline as tl_mod

    def seg(s: tl_mod.Segment | None) -> list[int] | None:
        return None if s is None else [s.start8, s.end8]

    def bar(b: tl_mod.Bar) -> dict[str, Any]:
        return {"name": visible(b.label), "run_name": visible(b.run_name) if b.run_name else None,
                "status": tl_mod.status_word(b), "queued_eighths": seg(b.queued), "running_eighths": seg(b.running),
                "duration_seconds": b.duration, "critical": b.critical, "finally": b.is_finally,
                "skipped": b.skipped, "note": visible(b.note) if b.note else None, "steps": [bar(s) for s in b.steps]}

    from tekton_results_tui.store.grouping import format_time

    return {"kind": tl.kind, "name": visible(tl.name), "width": tl.width, "start": format_time(tl.t0),
            "end": format_time(tl.t1), "message": tl.message, "ticks": [[c, lbl] for c, lbl in tl.ticks],
            "bars": [bar(b) for b in tl.bars], "eta": eta.run.document() if eta else None, "flaky": flaky}


@quiet_broken_pipe
def run_timeline(args: argparse.Namespace) -> int:
    from tekton_results_tui.insights import timeline as tl_mod
    from tekton_results_tui.insights.run_summary import run_insights

    namespace = args.run_namespace or (getattr(args, "namespaces", None) or [None])[-1]
    width = args.width or shutil.get_terminal_size((80, 24)).columns
    if width < 40:
        raise UsageError(f"--width {width}: a timeline needs at least 40 columns")
    with opened_history(args, read_only=True) as h:
        run = resolve_run(h, args.run, namespace)
        if run is None:
            where = f" in namespace {visible(namespace)}" if namespace else ""
            raise UsageError(f"no stored run, Record or Result named {args.run!r}{where}")
        ins = run_insights(h, run, revision_key=args.revision_key)
        tl = timeline_of(h, run, width, ins.eta)
        if args.output == "json":
            output.emit_document(timeline_document(tl, ins.eta, ins.flaky), "json", sys.stdout)
            return exitcodes.OK
        out = sys.stdout
        status = tl_mod.STATUS_WORDS.get(run.status, "Running" if run.start is not None else "Pending")
        took = f", {human_duration(run.duration)}" if run.duration is not None else ""
        out.write(f"{run.kind} {visible(run.parent)}/{visible(run.run_name)}: {status}{took}\n")
        for line in (ins.eta_line, ins.flaky):
            if line:
                out.write(visible(line) + "\n")
        for line in tl_mod.render_lines(tl, width, steps=args.steps, clean=visible):
            out.write(line + "\n")
    return exitcodes.OK
