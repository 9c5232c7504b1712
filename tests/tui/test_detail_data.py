"""Fixed data and a tiny host app for the detail-pane tests (no tests in here).

Names look like markup (`build [linux]`, `step [/x]`) or are unicode; one step log is
an attack: OSC title/hyperlink/clipboard, CSI clears and cursor moves, mode sets,
DCS/APC strings, 8-bit CSI, BEL, backspaces and CR overwrites around SGR colour.
"""

from __future__ import annotations

import time
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Footer

from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.grouping import format_time
from tekton_results_tui.store.history import Events, History, Logs, RunUpsert, StepLogData
from tekton_results_tui.tui.cluster import PodLogReader
from tekton_results_tui.tui.widgets.detail import DetailPane

T0 = 1_780_000_000
SIZE = (120, 36)

ATTACK_LOG = (
    "\x1b]0;pwned title\x07\x1b]2;other title\x1b\\"
    "\x1b[31mred error\x1b[0m and \x1b[1;32mbold green\x1b[0m\n"
    "click \x1b]8;;https://evil.example/\x1b\\here\x1b]8;;\x1b\\ please\n"
    "\x1b]52;c;cm0gLXJmIC8K\x07clipboard line\n"
    "\x1b[2J\x1b[H\x1b[10;20Hcursor moved\x1b[K\x1b[?1049h\x1b[?25l mode set\n"
    "\x1bPq#0;2;0;0;0#1!7~\x1b\\after dcs \x1b_apc payload\x1b\\after apc\n"
    "eight-bit \x9b2J csi\x9d0;t\x9c and bell\x07 back\x08\x08\x08space\n"
    "visible text\rOVERWRITE\n"
    "\x1b[8mconcealed secret\x1b[0m \x1b[5mblink\x1b[0m\n"
    "\x1bc\x1b7\x1b8\x1b(0reset and charset\n"
)


LONG_LINE = ("warning: " + "a very long line that needs wrapping " * 8).encode() + b"end\n"


def step(name: str, code: int | None, start: int, end: int | None, reason: str | None = None) -> dict:
    s: dict[str, Any] = {"name": name, "container": f"step-{name}"}
    if code is not None:
        s["terminated"] = {"exitCode": code, "reason": reason or ("Completed" if code == 0 else "Error"),
                           "startedAt": format_time(start), "finishedAt": format_time(end or start)}
    else:
        s["running"] = {"startedAt": format_time(start)}
    return s


def _cond(status: str, reason: str, at: int, message: str) -> list[dict]:
    return [{"type": "Succeeded", "status": status, "reason": reason, "message": message,
             "lastTransitionTime": format_time(at)}]


def pipelinerun(name: str, uid: str, *, ns: str = "ci", status: str = "False", reason: str = "Failed",
                start: int = T0 - 900, end: int | None = T0 - 600, rv: int = 10) -> dict:
    obj = {
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"name": name, "namespace": ns, "uid": uid, "resourceVersion": str(rv),
                     "creationTimestamp": format_time(start - 1),
                     "labels": {"tekton.dev/pipeline": "build [linux]", "tekton.dev/pipelineRun": name},
                     "annotations": {"note": "[/x] not markup"}},
        "spec": {"pipelineRef": {"name": "build [linux]"},
                 "params": [{"name": "revision", "value": "[/x] v1.2 ünï"},
                            {"name": "platforms", "value": ["linux/amd64", "[linux]/arm64"]}]},
        "status": {"conditions": _cond(status, reason, end or start,
                                       "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 0"
                                       if status == "False" else "Tasks Completed: 2"),
                   "startTime": format_time(start),
                   "results": [{"name": "image-digest", "value": "sha256:[abc]"}]},
    }
    if end is not None:
        obj["status"]["completionTime"] = format_time(end)
    return obj


def taskrun(parent: dict, name: str, uid: str, task: str, steps: list[dict], *, status: str, reason: str,
            start: int, end: int | None, rv: int = 10) -> dict:
    pm = parent["metadata"]
    obj = {
        "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
        "metadata": {"name": name, "namespace": pm["namespace"], "uid": uid, "resourceVersion": str(rv),
                     "creationTimestamp": format_time(start - 1),
                     "labels": {"tekton.dev/pipeline": "build [linux]", "tekton.dev/pipelineRun": pm["name"],
                                "tekton.dev/task": task, "tekton.dev/pipelineTask": task},
                     "annotations": {},
                     "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "name": pm["name"],
                                          "uid": pm["uid"], "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"taskRef": {"name": task, "kind": "Task"}},
        "status": {"conditions": _cond(status, reason, end or start, f"{reason} message"),
                   "startTime": format_time(start), "podName": f"{name}-pod", "steps": steps},
    }
    if end is not None:
        obj["status"]["completionTime"] = format_time(end)
    return obj


def numbered_log(n: int) -> bytes:
    return "".join(f"\x1b[36m{i:04d}\x1b[0m go test ./pkg/{i % 7} {'ok' if i % 50 else 'needle found'}\n"
                   for i in range(n)).encode()


class Data:
    """The objects the tests look at (filled by `fill`)."""

    pr: dict
    clone: dict
    test: dict
    live_pr: dict
    live_tr: dict


def fill(history: History) -> Data:
    d = Data()
    s = T0 - 900
    d.pr = pipelinerun("build [linux]", "00000000-0000-4000-8000-000000000001")
    d.clone = taskrun(d.pr, "build [linux]-clone", "00000000-0000-4000-8000-000000000002", "git-clone",
                      [step("clone", 0, s + 2, s + 10)], status="True", reason="Succeeded", start=s + 1, end=s + 11)
    d.test = taskrun(d.pr, "build [linux]-step [/x]", "00000000-0000-4000-8000-000000000003", "unit-test",
                     [step("prepare", 0, s + 13, s + 15), step("test [/x]", 2, s + 15, s + 290)],
                     status="False", reason="Failed", start=s + 12, end=s + 295)
    d.live_pr = pipelinerun("déploiement-ü-🚀", "00000000-0000-4000-8000-000000000011", status="Unknown",
                            reason="Running", start=T0 - 60, end=None)
    d.live_tr = taskrun(d.live_pr, "déploiement-ü-🚀-deploy", "00000000-0000-4000-8000-000000000012", "deploy",
                        [step("deploy", None, T0 - 58, None)], status="Unknown", reason="Running",
                        start=T0 - 59, end=None)
    events = [
        {"type": "Normal", "reason": "Started", "message": "PipelineRun [linux] started", "count": 1,
         "involvedObject": {"kind": "PipelineRun", "name": d.pr["metadata"]["name"], "uid": d.pr["metadata"]["uid"]},
         "lastTimestamp": format_time(s), "metadata": {"resourceVersion": "5"}},
        {"type": "Warning", "reason": "Failed", "message": "step [/x] exited with code 2\x1b]0;t\x07",
         "count": 3, "involvedObject": {"kind": "PipelineRun", "name": d.pr["metadata"]["name"],
                                        "uid": d.pr["metadata"]["uid"]},
         "lastTimestamp": format_time(s + 295), "metadata": {"resourceVersion": "6"}},
    ]
    history.apply([
        RunUpsert(d.pr), RunUpsert(d.clone), RunUpsert(d.test), RunUpsert(d.live_pr), RunUpsert(d.live_tr),
        Logs(d.clone, [StepLogData("clone", "step-clone", b"\x1b[32m+\x1b[0m git clone [linux]\nCloning into '.'\n" + LONG_LINE)]),
        Logs(d.test, [StepLogData("prepare", "step-prepare", ATTACK_LOG.encode()),
                      StepLogData("test [/x]", "step-test [/x]", numbered_log(400), truncated=True)]),
        Events(d.pr, events),
    ])
    return d


def open_history(url: str) -> History:
    return History(open_database(url), clock=lambda: T0)


class HostApp(App):
    """The pane alone, as the shell mounts it (with a Footer to show its keys)."""

    CSS = "DetailPane { height: 1fr; }"

    def __init__(self, history: History, pod_logs: PodLogReader | None = None, clock: Any = lambda: float(T0)) -> None:
        super().__init__()
        self.history = history
        self.pod_logs = pod_logs
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield DetailPane(self.history, pod_logs=self.pod_logs, clock=self.clock, id="detail")
        yield Footer()

    @property
    def pane(self) -> DetailPane:
        return self.query_one(DetailPane)


def record_of(history: History, obj: dict):
    rec = history.get_record(uid=obj["metadata"]["uid"])
    assert rec is not None
    return rec


async def settle(pilot: Any) -> None:
    """Let loads finish: wait for the pane's workers, then let the UI apply and paint."""
    from textual.worker import WorkerCancelled

    await pilot.pause()
    for _ in range(10):  # a cancelled (superseded) load makes the wait raise: wait again for the rest
        try:
            await pilot.app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            continue
    await pilot.pause()


async def until(pilot: Any, cond: Any, timeout: float = 10.0) -> None:
    """Poll with a deadline (only where nothing can be awaited, e.g. a 2 s live log poll)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await pilot.pause(0.05)


def screen_text(app: Any) -> str:
    """The screen as plain text rows (from the SVG export: what a person would read)."""
    import html
    import re

    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', app.export_screenshot()):
        rows.setdefault(float(m.group(2)), []).append((float(m.group(1)), html.unescape(m.group(3))))
    return "\n".join("".join(t for _, t in sorted(parts)).replace("\xa0", " ") for _, parts in sorted(rows.items()))
