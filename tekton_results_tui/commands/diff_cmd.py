"""`diff`: what changed between two stored runs, or between a run and the last success before it.

Runs are named as `logs` names them (a run name — the newest when names repeat —, a Result or
Record name, or a uid), with the namespace from -n or written `ns/name`. Runs gone from the cluster
compare like live ones: the history keeps them. Exit 0 with the answer (differences or not);
1 when --last-success finds no earlier success; 2 for a name that matches no run.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from tekton_results_tui import exitcodes
from tekton_results_tui.commands import output
from tekton_results_tui.commands.args import add_db_option, bounded_int
from tekton_results_tui.commands.common import opened_history, quiet_broken_pipe
from tekton_results_tui.commands.query_cmds import _resolve_run as resolve_run  # the one resolver `logs` uses
from tekton_results_tui.errors import UsageError
from tekton_results_tui.kubefmt import human_duration
from tekton_results_tui.textsafe import visible

if TYPE_CHECKING:
    from tekton_results_tui.insights import diff as d
    from tekton_results_tui.store.history import History, RecordRow

HELP = "what changed between two stored runs (PipelineRuns or TaskRuns, live or gone from the cluster)"
VALUE_WIDTH = 100  # a value longer than this is cut in the summary (JSON and --yaml carry it whole)
TEXT_DIFF_LINES = 12  # lines of a multi-line value's own diff shown in the summary


@functools.cache
def _words() -> tuple[dict[str, str], dict[str, str]]:
    """The status words and change marks of the summary (keyed by insights/diff.py's names)."""
    # loaded when the command runs: every start builds this parser
    from tekton_results_tui.insights import diff as d

    status_words = {"SUCCESS": "Succeeded", "FAILURE": "Failed", "TIMEOUT": "Timeout", "CANCELLED": "Cancelled",
                    "UNKNOWN": "Running", d.SKIPPED: "Skipped", d.NOT_RUN: "Not run"}
    return status_words, {d.ADDED: "+", d.REMOVED: "-", d.CHANGED: "~"}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("diff", help=HELP, description=HELP + ": params, results, resolved spec, tasks run/"
                              "skipped/failed, task and step durations, step images and digests, labels and "
                              "annotations (minus the system's), service account, workspaces, timeouts. RUN is "
                              "a run name (the newest when names repeat), ns/name, a Result or Record name, or a uid.")
    p.add_argument("run_a", metavar="RUN_A", help="the run compared from (with --last-success: the run to explain)")
    p.add_argument("run_b", metavar="RUN_B", nargs="?", help="the run compared to")
    p.add_argument("--last-success", action="store_true",
                   help="compare RUN_A with the newest successful run of the same pipeline (or task) in its "
                        "namespace created before it")
    p.add_argument("-n", "--namespace", dest="diff_namespace", metavar="NS", help="the runs' namespace")
    p.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    p.add_argument("--yaml", action="store_true", help="text: also the unified diff of the two runs' YAML")
    p.add_argument("--steps", action="store_true", help="text: a row per step under each task (always for a TaskRun)")
    p.add_argument("-U", "--context", type=bounded_int(0, 1000), default=3, metavar="N",
                   help="--yaml: lines of context around each change (default 3)")
    add_db_option(p, sub=True)
    p.set_defaults(func=run_diff)


def _split_name(name: str, namespace: str | None) -> tuple[str, str | None]:
    """`ns/name` -> (name, ns); Result/Record names and plain names pass as they are."""
    if "/results/" not in name and name.count("/") == 1:
        ns, _, run = name.partition("/")
        if ns and run:
            if namespace and namespace != ns:
                raise UsageError(f"{name!r} names namespace {ns!r} but -n says {namespace!r}")
            return run, ns
    return name, namespace


def _find(h: History, name: str, namespace: str | None) -> RecordRow:
    run_name, ns = _split_name(name, namespace)
    run = resolve_run(h, run_name, ns)
    if run is None:
        where = f" in namespace {ns}" if ns else ""
        raise UsageError(f"no stored run, Record or Result named {name!r}{where}")
    return run


def _label(run: RecordRow) -> str:
    return f"{run.kind} {run.parent}/{run.run_name}"


@quiet_broken_pipe
def run_diff(args: argparse.Namespace) -> int:
    from tekton_results_tui.insights.diff_load import NothingToMatch, diff_of, last_success
    from tekton_results_tui.insights.yaml_diff import yaml_diff

    namespace = args.diff_namespace or (getattr(args, "namespaces", None) or [None])[-1]
    if args.last_success == bool(args.run_b):
        raise UsageError("give two runs (diff RUN_A RUN_B) or one with --last-success")
    with opened_history(args, read_only=True) as h:
        if args.last_success:
            b = _find(h, args.run_a, namespace)
            try:
                a = last_success(h, b)
            except NothingToMatch as exc:
                print(visible(f"{exc}: no run is the same pipeline or task to compare it with"), file=sys.stderr)
                return exitcodes.PARTIAL
            if a is None:
                what = (f"pipeline {b.pipeline}" if b.kind == "PipelineRun" else
                        f"task {b.pipeline_task} of pipeline {b.pipeline}" if b.pipeline and b.pipeline_task else
                        f"task {b.task}")
                print(visible(f"no successful run of {what} in namespace {b.parent} before {_label(b)}"),
                      file=sys.stderr)
                return exitcodes.PARTIAL
        else:
            a = _find(h, args.run_a, namespace)
            b = _find(h, args.run_b, namespace)
        if a.kind != b.kind:
            raise UsageError(f"cannot compare a {a.kind} with a {b.kind} ({a.run_name}, {b.run_name})")
        result = diff_of(h, a, b)
        if args.output == "json":  # json_text escapes what a terminal would obey; values stay exact
            output.emit_document(result.document(), "json", sys.stdout)
            return exitcodes.OK
        out = sys.stdout
        write_summary(result, a, b, out, steps=args.steps)
        if args.yaml:
            yd = yaml_diff(result.a.obj, result.b.obj, f"a/{a.parent}/{a.run_name}", f"b/{b.parent}/{b.run_name}",
                             context=args.context)
            out.write("\n")
            for line in yd.lines:
                out.write(visible(line) + "\n")
            if not yd.hunks:
                out.write("(the YAML of both runs is the same)\n")
    return exitcodes.OK


# --- text ------------------------------------------------------------------------------------------


def _seconds(v: int | None) -> str:
    return "" if v is None else human_duration(v)


def _delta(a: int | None, b: int | None) -> str:
    if a is None or b is None:
        return ""
    diff = b - a
    if diff == 0:
        return "±0s"
    sign = "+" if diff > 0 else "-"
    pct = f" ({diff / a * 100:+.0f}%)" if a else ""
    return f"{sign}{human_duration(abs(diff))}{pct}"


def _status(s: str | None) -> str:
    return "—" if s is None else _words()[0].get(s, s)


def _value(v: Any) -> str:
    text = v if isinstance(v, str) and "\n" not in v else json.dumps(v, ensure_ascii=False, sort_keys=True)
    text = visible(text)
    return text if len(text) <= VALUE_WIDTH else text[:VALUE_WIDTH - 1] + "…"


def _change_lines(c: d.Change) -> list[str]:
    import difflib

    from tekton_results_tui.insights import diff as d

    mark, path = _words()[1][c.kind], visible(c.path)
    if c.kind == d.ADDED:
        return [f"  {mark} {path}: {_value(c.b)}"]
    if c.kind == d.REMOVED:
        return [f"  {mark} {path}: {_value(c.a)}"]
    if isinstance(c.a, str) and isinstance(c.b, str) and ("\n" in c.a or "\n" in c.b):
        body = list(difflib.unified_diff(c.a.splitlines(), c.b.splitlines(), n=1, lineterm=""))[2:]
        shown = [f"      {visible(ln)}" for ln in body[:TEXT_DIFF_LINES]]
        if len(body) > TEXT_DIFF_LINES:
            shown.append(f"      … {len(body) - TEXT_DIFF_LINES} more lines (--yaml shows all)")
        return [f"  {mark} {path}:", *shown]
    return [f"  {mark} {path}: {_value(c.a)} -> {_value(c.b)}"]


def _task_table(result: d.RunDiff, steps: bool) -> list[str]:
    steps = steps or len(result.tasks) == 1  # a TaskRun diff: its steps are the detail there is
    rows: list[list[Any]] = []
    for t in result.tasks:
        rows.append([visible(t.task), _status(t.a_status), _status(t.b_status), _seconds(t.a_seconds),
                     _seconds(t.b_seconds), _delta(t.a_seconds, t.b_seconds)])
        if steps:
            for s in t.steps:
                rows.append(["  " + visible(s.step), _status(s.a_status), _status(s.b_status), _seconds(s.a_seconds),
                             _seconds(s.b_seconds), _delta(s.a_seconds, s.b_seconds)])
    buf = io.StringIO()
    output.render_table(["TASK", "A", "B", "A-TIME", "B-TIME", "DELTA"], rows, buf)
    return ["  " + ln for ln in buf.getvalue().splitlines()]


def write_summary(result: d.RunDiff, a: RecordRow, b: RecordRow, out: TextIO, steps: bool = False) -> None:
    from tekton_results_tui.insights import diff as d

    def head(tag: str, run: RecordRow, status: str, secs: int | None) -> str:
        took = f", {human_duration(secs)}" if secs is not None else ""
        gone = "" if run.in_cluster else " (gone from the cluster)"
        return f"{tag}: {visible(_label(run))}: {_status(status)}{took}{gone}"

    out.write(head("A", a, result.a_status, result.a_seconds) + "\n")
    out.write(head("B", b, result.b_status, result.b_seconds) + "\n")
    n = len(result.changes)
    delta = _delta(result.a_seconds, result.b_seconds)
    out.write(f"{n} change{'s' if n != 1 else ''}" + (f"; duration {delta}" if delta else "") + "\n")
    sections = result.by_section()
    for section in d.SECTIONS:
        if section == d.TASKS and result.tasks:
            out.write(f"\n{d.SECTION_TITLES[section]}\n")
            for line in _task_table(result, steps):  # it shows the tasks' status changes too
                out.write(line + "\n")
            continue
        if section not in sections:
            continue
        out.write(f"\n{d.SECTION_TITLES[section]}\n")
        for c in sections[section]:
            for line in _change_lines(c):
                out.write(line + "\n")
