"""A workload: PipelineRuns with 2-6 TaskRuns (and, if asked, a CustomRun) moving through Tekton's states at a
given rate.

One scheduler thread drives every run; each run is a generator that writes a
status and yields how long to wait before its next write, so a run makes the
dozen-odd writes a real controller makes (Started, Pending, Running per step,
terminal) and emits the controller's events along the way. A CustomRun is driven
by a generator of its own, the fake custom-task controller: Tekton's controller
only creates it and waits for its Succeeded condition. With `prune_after_s` a run
is deleted (with its children, by the owner cascade) that long after it finished,
as a pruner or a cleanup policy does.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from tekton_results_tui.kinds import CUSTOM_RUN, PIPELINE_RUN, TASK_RUN
from tekton_results_tui.sim import objects
from tekton_results_tui.sim.errors import ApiError

if TYPE_CHECKING:
    from tekton_results_tui.sim.cluster import SimCluster

Run = Generator[float, None, None]
PRS, TRS, CRS = PIPELINE_RUN.plural, TASK_RUN.plural, CUSTOM_RUN.plural


class Workload:
    """Starts `rate` runs per second (until max_runs), each advancing every ~step_interval_s.

    `custom_runs_every` = N: every Nth PipelineRun also runs a custom task (a CustomRun beside its
    first TaskRun), alternating "wait" and "approval"; 0 = none. Its draws use a random stream of
    their own, so a seed's PipelineRun/TaskRun choices are the same with or without it.
    `prune_after_s`: delete each PipelineRun (and its children) that long after it finished; None = keep.
    """

    def __init__(self, sim: "SimCluster", rate: float = 2.0, seed: int = 0, max_runs: int | None = None,
                 namespaces: tuple[str, ...] = ("ci", "dev", "prod"), step_interval_s: float = 0.5,
                 custom_runs_every: int = 0, prune_after_s: float | None = None) -> None:
        self.sim, self.rate, self.max_runs = sim, float(rate), max_runs
        self.namespaces = tuple(namespaces)
        self.step = float(step_interval_s)
        self.rng = random.Random(seed)
        self.custom_rng = random.Random(f"{seed}/customruns")
        self.seed = seed
        self.custom_every = max(0, int(custom_runs_every))
        self.prune_after_s = prune_after_s
        self.runs_started = 0
        self.runs_finished = 0
        self.runs_pruned = 0
        self.custom_runs_started = 0
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._heap: list[tuple[float, int, Run, bool]] = []  # (due, tie-break, generator, counts as a run)
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
                self._push(now, self._run(idx), True)
                next_start += 1.0 / self.rate
                if next_start < now - 1:
                    next_start = now
                continue
            if self._heap and self._heap[0][0] <= now:
                _, _, gen, counted = heapq.heappop(self._heap)
                self._advance(gen, now, counted)
                continue
            wake = min([self._heap[0][0]] if self._heap else [now + 0.5] + ([next_start] if can_start else []))
            if can_start:
                wake = min(wake, next_start)
            self._stop.wait(max(0.0, min(0.5, wake - now)))

    def _push(self, at: float, gen: Run, counted: bool) -> None:
        heapq.heappush(self._heap, (at, next(self._seq), gen, counted))

    def _advance(self, gen: Run, now: float, counted: bool) -> None:
        """One step of a run (counted) or of a controller beside it (a custom task: not counted)."""
        try:
            delay = next(gen)
        except StopIteration:
            if counted:
                self._finished()
            return
        except ApiError:  # deleted or changed under us (by a test or the product): the run is over
            if counted:
                self._finished()
            return
        except Exception:  # noqa: BLE001 - one broken run must not stop the others
            import logging
            logging.getLogger(__name__).exception("sim workload: a run failed")
            if counted:
                self._finished()
            return
        self._push(now + delay, gen, counted)

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

    def _custom_task(self, idx: int) -> str | None:
        if not self.custom_every or idx % self.custom_every:
            return None
        names = tuple(objects.CUSTOM_TASKS)
        return names[(idx // self.custom_every) % len(names)]

    def _run(self, idx: int) -> Run:
        sim, rng = self.sim, self.rng
        ns = self.namespaces[idx % len(self.namespaces)]
        pipeline = rng.choice(tuple(objects.PIPELINES))
        tasks = objects.PIPELINES[pipeline]
        outcome = rng.choices(objects.OUTCOMES, objects.WEIGHTS)[0]
        revision = f"{rng.getrandbits(40):010x}"
        name = f"{pipeline}-{self.seed:x}{idx:05d}-{rng.getrandbits(20):05x}"
        custom = self._custom_task(idx)
        pr = sim.create(PRS, objects.pipelinerun(ns, name, pipeline, revision))
        pr_uid = pr["metadata"]["uid"]
        start = sim.clock()
        pr = sim.patch_status(PRS, ns, name, {"startTime": objects.rfc3339(start), "conditions": objects.cond(
            "Unknown", "Started", "", start)})
        self._event(pr, "Normal", "Started", "", 0)
        children: list[dict[str, str]] = []
        crn: str | None = None
        if custom is not None:  # Tekton creates the CustomRun; the custom task's controller runs it
            cr = sim.create(CRS, objects.customrun(ns, name, pr_uid, pipeline, custom))
            crn = cr["metadata"]["name"]
            children.append(objects.custom_child_ref(crn, custom))
            with self._cv:
                self.custom_runs_started += 1
            self._push(time.monotonic() + self.step * self.custom_rng.uniform(0.5, 1.5),
                       self._custom_controller(ns, crn, custom, objects.custom_outcome(outcome, self.custom_rng)), False)
        yield self._jitter()
        failing = outcome not in ("Succeeded", "Completed")
        fail_at = rng.randrange(len(tasks)) if failing else len(tasks)
        n_total = len(tasks) + (1 if custom else 0)
        done = 0
        for i, (ptask, task) in enumerate(tasks):
            if i > fail_at:
                break
            tr = sim.create(TRS, objects.taskrun(ns, name, pr_uid, pipeline, ptask, task, revision))
            trn = tr["metadata"]["name"]
            children.append(objects.child_ref(trn, ptask))
            now = sim.clock()
            pr = sim.patch_status(PRS, ns, name, objects.pr_status(pipeline, start, now, list(children), None, name, done,
                                                                   n_total, custom))
            if i == 0:
                self._event(pr, "Normal", "Running", pr["status"]["conditions"][0]["message"], 1)
            yield self._jitter()
            t0 = sim.clock()
            tr = sim.patch_status(TRS, ns, trn, objects.tr_status(trn, task, t0, t0, None, 0, pending=True))
            self._event(tr, "Normal", "Started", "", 0)
            yield self._jitter()
            plan = objects.plan_for(outcome, i == fail_at, trn, task, rng)
            steps = objects.TASKS[task][1]
            last = len(steps) if plan.ok else (plan.failing_step or 0)
            if plan.reason != "TaskRunImagePullFailed":
                for j in range(max(1, last + (0 if plan.ok else 1))):
                    if j >= len(steps):
                        break
                    tr = sim.patch_status(TRS, ns, trn, objects.tr_status(trn, task, t0, sim.clock(), None, j))
                    if j == 0:
                        self._event(tr, "Normal", "Running", "Not all Steps in the Task have finished executing", 1)
                    yield self._jitter()
            tr = sim.patch_status(TRS, ns, trn, objects.tr_status(trn, task, t0, sim.clock(), plan, 0))
            c = tr["status"]["conditions"][0]
            self._event(tr, "Normal" if plan.ok else "Warning", c["reason"], c["message"], 2)
            if plan.ok:
                done += 1
            yield self._jitter() / 2
        reason = objects.pr_reason(outcome, rng)
        if crn is not None:  # a PipelineRun ends only once its custom task has
            while True:
                cr_obj = sim.get(CRS, ns, crn)
                cond = _succeeded(cr_obj)
                if cr_obj is None or cond in ("True", "False"):
                    break
                yield self.step / 2
            if cond == "True":
                done += 1
            elif reason in ("Succeeded", "Completed"):
                reason = "Failed"  # a failed custom task fails its PipelineRun
        if reason in ("Cancelled", "PipelineRunCancelled"):
            cur = sim.get(PRS, ns, name)
            if cur is None:
                return
            cur["spec"]["status"] = "Cancelled"
            sim.update(PRS, cur)
        now = sim.clock()
        pr = sim.patch_status(PRS, ns, name, objects.pr_status(pipeline, start, now, children, reason, name, done, n_total,
                                                               custom))
        c = pr["status"]["conditions"][0]
        self._event(pr, "Normal" if c["status"] == "True" else "Warning", c["reason"], c["message"], 2)
        if self.prune_after_s is not None:
            yield self.prune_after_s
            if sim.delete(PRS, ns, name) is not None:
                with self._cv:
                    self.runs_pruned += 1

    def _custom_controller(self, ns: str, name: str, custom: str, outcome: str) -> Run:
        """The custom task's own controller: Running, a few waits, then `outcome` (or cancelled when asked)."""
        sim, rng = self.sim, self.custom_rng
        t0 = sim.clock()
        cr = sim.patch_status(CRS, ns, name, objects.cr_status(name, custom, t0, t0, None))
        self._event(cr, "Normal", "Running", "", 1)
        for _ in range(rng.randint(1, 3)):
            yield self.step * rng.uniform(0.5, 1.5)
            cur = sim.get(CRS, ns, name)
            if cur is None:
                return
            if (cur.get("spec") or {}).get("status") == "RunCancelled":
                outcome = "CustomRunCancelled"
                break
        if outcome == "CustomRunCancelled":
            cur = sim.get(CRS, ns, name)
            if cur is None:
                return
            if cur["spec"].get("status") != "RunCancelled":  # cancelled by someone: spec first, then the controller
                cur["spec"]["status"] = "RunCancelled"
                cur = sim.update(CRS, cur)
            generation = int(cur["metadata"].get("generation") or 1)
        else:
            generation = 1
        cr = sim.patch_status(CRS, ns, name, objects.cr_status(name, custom, t0, sim.clock(), outcome, generation))
        c = cr["status"]["conditions"][0]
        self._event(cr, "Normal" if c["status"] == "True" else "Warning", c["reason"], c["message"], 2)


def _succeeded(obj: dict[str, Any] | None) -> str | None:
    """Status of the Succeeded condition ("True", "False", "Unknown"), None without one."""
    for c in ((obj or {}).get("status") or {}).get("conditions") or ():
        if c.get("type") == "Succeeded":
            return c.get("status")
    return None
