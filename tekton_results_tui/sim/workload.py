"""A workload: PipelineRuns with 2-6 TaskRuns moving through Tekton's states at a given rate.

One scheduler thread drives every run; each run is a generator that writes a
status and yields how long to wait before its next write, so a run makes the
dozen-odd writes a real controller makes (Started, Pending, Running per step,
terminal) and emits the controller's events along the way.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from tekton_results_tui.sim import objects
from tekton_results_tui.sim.errors import ApiError

if TYPE_CHECKING:
    from tekton_results_tui.sim.cluster import SimCluster

Run = Generator[float, None, None]


class Workload:
    """Starts `rate` runs per second (until max_runs), each advancing every ~step_interval_s."""

    def __init__(self, sim: "SimCluster", rate: float = 2.0, seed: int = 0, max_runs: int | None = None,
                 namespaces: tuple[str, ...] = ("ci", "dev", "prod"), step_interval_s: float = 0.5) -> None:
        self.sim, self.rate, self.max_runs = sim, float(rate), max_runs
        self.namespaces = tuple(namespaces)
        self.step = float(step_interval_s)
        self.rng = random.Random(seed)
        self.seed = seed
        self.runs_started = 0
        self.runs_finished = 0
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._heap: list[tuple[float, int, Run]] = []
        self._seq = itertools.count()

    def start(self) -> "Workload":
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="sim-workload", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._cv:
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def wait_idle(self, timeout: float) -> bool:
        """True once every started run reached a terminal state (and max_runs, if set, were started)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                done = self.runs_started == self.runs_finished and (
                    self.max_runs is None or self.runs_started >= self.max_runs or self.rate <= 0)
                if done:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.2))

    # ---------- scheduler ----------
    def _loop(self) -> None:
        next_start = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            can_start = self.rate > 0 and (self.max_runs is None or self.runs_started < self.max_runs)
            if can_start and now >= next_start:
                with self._cv:
                    self.runs_started += 1
                    idx = self.runs_started
                self._push(now, self._run(idx))
                next_start += 1.0 / self.rate
                if next_start < now - 1:
                    next_start = now
                continue
            if self._heap and self._heap[0][0] <= now:
                _, _, gen = heapq.heappop(self._heap)
                self._advance(gen, now)
                continue
            wake = min([self._heap[0][0]] if self._heap else [now + 0.5] + ([next_start] if can_start else []))
            if can_start:
                wake = min(wake, next_start)
            self._stop.wait(max(0.0, min(0.5, wake - now)))

    def _push(self, at: float, gen: Run) -> None:
        heapq.heappush(self._heap, (at, next(self._seq), gen))

    def _advance(self, gen: Run, now: float) -> None:
        try:
            delay = next(gen)
        except StopIteration:
            self._finished()
            return
        except ApiError:  # deleted or changed under us (by a test or the product): the run is over
            self._finished()
            return
        except Exception:  # noqa: BLE001 - one broken run must not stop the others
            import logging
            logging.getLogger(__name__).exception("sim workload: a run failed")
            self._finished()
            return
        self._push(now + delay, gen)

    def _finished(self) -> None:
        with self._cv:
            self.runs_finished += 1
            self._cv.notify_all()

    # ---------- one run ----------
    def _jitter(self) -> float:
        return self.step * self.rng.uniform(0.5, 1.5)

    def _event(self, obj: dict[str, Any], typ: str, reason: str, message: str, i: int) -> None:
        md = obj["metadata"]
        ev = objects.event(md, obj["kind"], typ, reason, message, objects.rfc3339(self.sim.clock()), i)
        self.sim.add_event(md["namespace"], ev)

    def _run(self, idx: int) -> Run:
        sim, rng = self.sim, self.rng
        ns = self.namespaces[idx % len(self.namespaces)]
        pipeline = rng.choice(tuple(objects.PIPELINES))
        tasks = objects.PIPELINES[pipeline]
        outcome = rng.choices(objects.OUTCOMES, objects.WEIGHTS)[0]
        revision = f"{rng.getrandbits(40):010x}"
        name = f"{pipeline}-{self.seed:x}{idx:05d}-{rng.getrandbits(20):05x}"
        pr = sim.create("pipelineruns", objects.pipelinerun(ns, name, pipeline, revision))
        pr_uid = pr["metadata"]["uid"]
        start = sim.clock()
        pr = sim.patch_status("pipelineruns", ns, name, {"startTime": objects.rfc3339(start), "conditions": objects.cond(
            "Unknown", "Started", "", start)})
        self._event(pr, "Normal", "Started", "", 0)
        yield self._jitter()
        failing = outcome not in ("Succeeded", "Completed")
        fail_at = rng.randrange(len(tasks)) if failing else len(tasks)
        children: list[dict[str, str]] = []
        done = 0
        for i, (ptask, task) in enumerate(tasks):
            if i > fail_at:
                break
            tr = sim.create("taskruns", objects.taskrun(ns, name, pr_uid, pipeline, ptask, task, revision))
            trn = tr["metadata"]["name"]
            children.append(objects.child_ref(trn, ptask))
            now = sim.clock()
            pr = sim.patch_status("pipelineruns", ns, name, objects.pr_status(pipeline, start, now, list(children), None, name, done, len(tasks)))
            if i == 0:
                self._event(pr, "Normal", "Running", pr["status"]["conditions"][0]["message"], 1)
            yield self._jitter()
            t0 = sim.clock()
            tr = sim.patch_status("taskruns", ns, trn, objects.tr_status(trn, task, t0, t0, None, 0, pending=True))
            self._event(tr, "Normal", "Started", "", 0)
            yield self._jitter()
            plan = objects.plan_for(outcome, i == fail_at, trn, task, rng)
            steps = objects.TASKS[task][1]
            last = len(steps) if plan.ok else (plan.failing_step or 0)
            if plan.reason != "TaskRunImagePullFailed":
                for j in range(max(1, last + (0 if plan.ok else 1))):
                    if j >= len(steps):
                        break
                    tr = sim.patch_status("taskruns", ns, trn, objects.tr_status(trn, task, t0, sim.clock(), None, j))
                    if j == 0:
                        self._event(tr, "Normal", "Running", "Not all Steps in the Task have finished executing", 1)
                    yield self._jitter()
            tr = sim.patch_status("taskruns", ns, trn, objects.tr_status(trn, task, t0, sim.clock(), plan, 0))
            c = tr["status"]["conditions"][0]
            self._event(tr, "Normal" if plan.ok else "Warning", c["reason"], c["message"], 2)
            if plan.ok:
                done += 1
            yield self._jitter() / 2
        reason = objects.pr_reason(outcome, rng)
        if reason in ("Cancelled", "PipelineRunCancelled"):
            cur = sim.get("pipelineruns", ns, name)
            if cur is None:
                return
            cur["spec"]["status"] = "Cancelled"
            sim.update("pipelineruns", cur)
        now = sim.clock()
        pr = sim.patch_status("pipelineruns", ns, name, objects.pr_status(pipeline, start, now, children, reason, name, done, len(tasks)))
        c = pr["status"]["conditions"][0]
        self._event(pr, "Normal" if c["status"] == "True" else "Warning", c["reason"], c["message"], 2)
