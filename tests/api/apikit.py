"""A served history for the API tests: fixed runs in two namespaces (statuses, labels, annotations,
step logs) and `serve` running on a real socket in a thread, stopped at teardown."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))

from store_objects import T0, bump, pr, tr  # noqa: E402

from tekton_results_tui.api.auth import Authorizer  # noqa: E402
from tekton_results_tui.api.server import ServeOptions, serve  # noqa: E402
from tekton_results_tui.store.history import History, Logs, RunUpsert, StepLogData  # noqa: E402

API = "/apis/results.tekton.dev/v1alpha2/parents"
__all__ = ["API", "T0", "bump", "pr", "tr", "populate", "served", "Corpus"]


class Corpus:
    """What populate() stored, for assertions."""

    def __init__(self) -> None:
        self.prs: list[dict] = []
        self.trs: list[dict] = []

    def result_name(self, run: dict) -> str:
        ns = run["metadata"]["namespace"]
        return f"{ns}/results/{run['metadata']['uid']}"


def populate(h: History) -> Corpus:
    """Six PipelineRuns (ci: 4, prod: 2) each with one TaskRun and its step logs."""
    c = Corpus()
    specs = [
        ("ci", "build-1", "True", "Succeeded", "build", 0, {"team": "a"}, {"repo": "web"}),
        ("ci", "build-2", "False", "Failed", "build", 100, {"team": "a"}, {}),
        ("ci", "test-1", "False", "PipelineRunTimeout", "test", 200, {"team": "b"}, {"repo": "api"}),
        ("ci", "test-2", "Unknown", "Running", "test", 300, {"team": "b"}, {}),
        ("prod", "deploy-1", "False", "Cancelled", "deploy", 400, {"team": "c"}, {"repo": "web"}),
        ("prod", "deploy-2", "True", "Completed", "deploy", 500, {"team": "c"}, {}),
    ]
    changes: list[Any] = []
    for ns, name, cond, reason, pipeline, dt, labels, ann in specs:
        created = T0 - 10_000 + dt
        end = None if cond == "Unknown" else created + 60 + dt
        run_ann = dict(ann)
        if ann:  # copied onto the Result's annotations and its summary's, as upstream's watcher does
            run_ann["results.tekton.dev/resultAnnotations"] = json.dumps(ann)
            run_ann["results.tekton.dev/recordSummaryAnnotations"] = json.dumps({"owner": labels["team"]})
        p = pr(name, ns=ns, cond=cond, reason=reason, pipeline=pipeline, created=created, start=created + 1, end=end,
               labels=labels, annotations=run_ann)
        t = tr(f"{name}-compile", parent=p, cond=cond, reason=reason, created=created + 2, start=created + 3,
               end=end, pipeline_task="compile", labels={"kind": "compile"})
        c.prs.append(p)
        c.trs.append(t)
        changes += [RunUpsert(p), RunUpsert(t),
                    Logs(t, [StepLogData("build", "step-build", f"building {name}\nline two\n".encode()),
                             StepLogData("test", "step-test", f"testing {name}".encode())])]
    h.apply(changes, cluster="test")
    return c


@contextmanager
def served(authorizer: Authorizer | None = None, tls: tuple[str, str] | None = None,
           auth: str | None = None) -> Iterator[str]:
    """Serve the bound history on 127.0.0.1:<free port>; yields the base URL."""
    ready = threading.Event()
    box: dict[str, Any] = {}
    stop_box: dict[str, Any] = {}

    def on_ready(url: str) -> None:
        box["url"] = url
        stop_box["loop"] = asyncio.get_running_loop()
        ready.set()

    stop = asyncio.Event()
    opts = ServeOptions(listen="127.0.0.1:0", auth=auth, tls_cert=tls[0] if tls else None,
                        tls_key=tls[1] if tls else None, workers=4)

    def target() -> None:
        try:
            serve(opts, ready=on_ready, stop=stop, authorizer=authorizer)
        except BaseException as exc:  # noqa: BLE001 - surfaced to the test below
            box["error"] = exc
            ready.set()

    th = threading.Thread(target=target, name="serve", daemon=True)
    th.start()
    ready.wait(30)
    if "error" in box:
        raise box["error"]
    try:
        yield box["url"]
    finally:
        stop_box["loop"].call_soon_threadsafe(stop.set)
        th.join(30)
