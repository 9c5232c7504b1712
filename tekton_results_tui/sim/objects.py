"""Realistic Tekton objects (v1 PipelineRuns/TaskRuns, v1beta1 CustomRuns), step logs and Kubernetes events,
generated deterministically.

Shapes follow what Tekton Pipelines writes: Succeeded conditions with its reasons,
childReferences, step states with container "step-<name>", podName, results, and
taskSpec/pipelineSpec copies (objects of ~3-5 KB). A CustomRun is what a PipelineRun creates
for a pipeline task whose taskRef names a custom task (customRef): another controller runs it,
there is no pod. Logs and events of preloaded runs are not stored: they are derived from the
run on request, so 100k runs stay small.
"""

from __future__ import annotations

import random
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

from tekton_results_tui.kinds import BY_NAME, CUSTOM_RUN, PIPELINE_RUN, TASK_RUN
from tekton_results_tui.sim.store import rfc3339

# task name -> (image, steps)
TASKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "git-clone": ("gcr.io/tekton-releases/github.com/tektoncd/pipeline/cmd/git-init:v0.40.2", ("clone",)),
    "golang-build": ("docker.io/library/golang:1.22", ("build", "vet")),
    "golang-test": ("docker.io/library/golang:1.22", ("unit-test", "coverage")),
    "kaniko": ("gcr.io/kaniko-project/executor:v1.9.1", ("build-and-push", "write-url")),
    "trivy-scanner": ("docker.io/aquasec/trivy:0.50.1", ("scan",)),
    "helm-upgrade": ("docker.io/lachlanevenson/k8s-helm:v3.10.2", ("upgrade",)),
    "npm": ("docker.io/library/node:20", ("install", "lint", "test")),
    "pytest": ("docker.io/library/python:3.12", ("install", "test")),
    "slack-notify": ("docker.io/curlimages/curl:8.5.0", ("post",)),
}

PIPELINES: dict[str, list[tuple[str, str]]] = {  # pipeline -> [(pipelineTask, task)]
    "build-and-deploy": [("fetch-source", "git-clone"), ("build", "golang-build"), ("test", "golang-test"),
                         ("image", "kaniko"), ("scan", "trivy-scanner"), ("deploy", "helm-upgrade")],
    "go-ci": [("fetch-source", "git-clone"), ("build", "golang-build"), ("unit-tests", "golang-test")],
    "frontend": [("checkout", "git-clone"), ("npm-ci", "npm"), ("notify", "slack-notify")],
    "python-lib": [("fetch", "git-clone"), ("tests", "pytest")],
    "release": [("fetch-source", "git-clone"), ("build", "golang-build"), ("image", "kaniko"), ("deploy", "helm-upgrade"), ("notify", "slack-notify")],
}

OUTCOMES = ("Succeeded", "Completed", "Failed", "OOM", "ImagePull", "Cancelled", "Timeout")
WEIGHTS = (60, 5, 15, 5, 5, 5, 5)

_SCRIPT = ("#!/usr/bin/env sh\nset -eu\necho \"running {step} for $(params.revision)\"\n"
           "if [ -f Makefile ]; then make {step} VERBOSE=1; else ./hack/{step}.sh --ci --output=/workspace/output; fi\n"
           "printf '%s' \"$(date +%s)\" > $(results.{step}-time.path)\n")


def _task_spec(task: str) -> dict[str, Any]:
    image, steps = TASKS[task]
    return {
        "params": [{"name": "revision", "type": "string", "default": "main", "description": "git revision to build"},
                   {"name": "verbose", "type": "string", "default": "false"}],
        "results": [{"name": f"{s}-time", "type": "string", "description": f"when {s} finished"} for s in steps],
        "workspaces": [{"name": "source", "mountPath": "/workspace/source"}],
        "steps": [{"name": s, "image": image, "workingDir": "/workspace/source",
                   "computeResources": {"limits": {"memory": "1Gi"}, "requests": {"cpu": "250m", "memory": "256Mi"}},
                   "env": [{"name": "HOME", "value": "/tekton/home"}, {"name": "CI", "value": "true"}],
                   "script": _SCRIPT.format(step=s)} for s in steps],
    }


TASK_SPECS = {t: _task_spec(t) for t in TASKS}
PIPELINE_SPECS = {
    p: {"params": [{"name": "revision", "type": "string", "default": "main"}, {"name": "repo-url", "type": "string"}],
        "workspaces": [{"name": "shared"}],
        "tasks": [{"name": pt, "taskRef": {"kind": "Task", "name": t},
                   "params": [{"name": "revision", "value": "$(params.revision)"}],
                   "workspaces": [{"name": "source", "workspace": "shared"}],
                   **({"runAfter": [tasks[i - 1][0]]} if i else {})} for i, (pt, t) in enumerate(tasks)]}
    for p, tasks in PIPELINES.items()
}


def pipeline_spec(pipeline: str, custom: str | None = None) -> dict[str, Any]:
    """The pipelineSpec copied into a PipelineRun's status; with a custom task it runs first, beside the others."""
    if custom is None:
        return PIPELINE_SPECS[pipeline]
    ref, params = CUSTOM_TASKS[custom]
    spec = dict(PIPELINE_SPECS[pipeline])
    spec["tasks"] = [{"name": custom, "taskRef": dict(ref), "params": params}, *spec["tasks"]]
    return spec


# custom task -> (customRef, params): tasks a controller other than Tekton's runs, as CustomRuns
CUSTOM_TASKS: dict[str, tuple[dict[str, str], list[dict[str, Any]]]] = {
    "wait": ({"apiVersion": "wait.testing.tekton.dev/v1beta1", "kind": "Wait", "name": "wait-for-window"},
             [{"name": "duration", "value": "5s"}]),
    "approval": ({"apiVersion": "openshift-pipelines.org/v1alpha1", "kind": "ApprovalTask", "name": "release-approval"},
                 [{"name": "approvers", "value": ["alice", "bob"]}, {"name": "numberOfApprovalsRequired", "value": "1"}]),
}
# how a custom task ends (CustomRun reasons, pipeline's customrun_types.go)
CUSTOM_OUTCOMES = ("Succeeded", "Failed", "CustomRunTimedOut", "CustomRunCancelled")
CUSTOM_WEIGHTS = (70, 10, 10, 10)


def new_uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def cond(status: str, reason: str, message: str, ts: float) -> list[dict[str, Any]]:
    return [{"type": "Succeeded", "status": status, "reason": reason, "message": message,
             "lastTransitionTime": rfc3339(ts)}]


def pr_labels(pipeline: str) -> dict[str, str]:
    return {"tekton.dev/pipeline": pipeline, "app.kubernetes.io/managed-by": "tekton-pipelines"}


def tr_labels(pipeline: str, pr: str, ptask: str, task: str) -> dict[str, str]:
    return {"app.kubernetes.io/managed-by": "tekton-pipelines", "tekton.dev/memberOf": "tasks",
            "tekton.dev/pipeline": pipeline, "tekton.dev/pipelineRun": pr, "tekton.dev/pipelineTask": ptask,
            "tekton.dev/task": task}


def pipelinerun(ns: str, name: str, pipeline: str, revision: str) -> dict[str, Any]:
    return {"apiVersion": PIPELINE_RUN.api_version, "kind": PIPELINE_RUN.name,
            "metadata": {"name": name, "namespace": ns, "labels": pr_labels(pipeline),
                         "annotations": {"tekton.dev/git-revision": revision}},
            "spec": {"pipelineRef": {"name": pipeline},
                     "params": [{"name": "revision", "value": revision},
                                {"name": "repo-url", "value": f"https://github.com/example/{pipeline}.git"}],
                     "taskRunTemplate": {"serviceAccountName": "pipeline"}, "timeouts": {"pipeline": "1h0m0s"},
                     "workspaces": [{"name": "shared", "volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
                                     "resources": {"requests": {"storage": "1Gi"}}}}}]}}


def owner_ref(pr: str, pr_uid: str) -> dict[str, Any]:
    """The ownerReference a PipelineRun's child runs carry (the garbage collector deletes them with it)."""
    return {"apiVersion": PIPELINE_RUN.api_version, "kind": PIPELINE_RUN.name, "name": pr, "uid": pr_uid,
            "controller": True, "blockOwnerDeletion": True}


def taskrun(ns: str, pr: str, pr_uid: str, pipeline: str, ptask: str, task: str, revision: str) -> dict[str, Any]:
    return {"apiVersion": TASK_RUN.api_version, "kind": TASK_RUN.name,
            "metadata": {"name": f"{pr}-{ptask}", "namespace": ns, "labels": tr_labels(pipeline, pr, ptask, task),
                         "annotations": {"pipeline.tekton.dev/release": "v0.59.0"},
                         "ownerReferences": [owner_ref(pr, pr_uid)]},
            "spec": {"taskRef": {"kind": "Task", "name": task}, "params": [{"name": "revision", "value": revision}],
                     "serviceAccountName": "pipeline", "timeout": "1h0m0s",
                     "workspaces": [{"name": "source", "persistentVolumeClaim": {"claimName": f"pvc-{pr[-10:]}"}}]}}


def image_id(task: str) -> str:
    return f"{TASKS[task][0].split(':')[0]}@sha256:{zlib.crc32(task.encode()):08x}{'0' * 56}"


@dataclass
class TaskPlan:
    """How one TaskRun ends: reason, message and the state of each step."""

    reason: str
    ok: bool
    failing_step: int | None = None  # index of the step that fails
    step_reason: str = "Completed"
    exit_code: int = 0


def plan_for(outcome: str, is_failing_task: bool, tr_name: str, task: str, rng: random.Random) -> TaskPlan:
    steps = TASKS[task][1]
    if not is_failing_task:
        return TaskPlan("Succeeded", True)
    i = rng.randrange(len(steps))
    if outcome == "Failed":
        return TaskPlan("Failed", False, i, "Error", 1)
    if outcome == "OOM":
        return TaskPlan("Failed", False, i, "OOMKilled", 137)
    if outcome == "ImagePull":
        return TaskPlan("TaskRunImagePullFailed", False, i, "ImagePullBackOff", 0)
    if outcome == "Cancelled":
        return TaskPlan("TaskRunCancelled", False, i, "TaskRunCancelled", 1)
    if outcome == "Timeout":
        return TaskPlan("TaskRunTimeout", False, i, "TaskRunTimeout", 1)
    return TaskPlan("Succeeded", True)


def tr_message(plan: TaskPlan, tr: str, task: str) -> str:
    steps = TASKS[task][1]
    step = steps[plan.failing_step or 0]
    return {
        "Succeeded": "All Steps have completed executing",
        "Failed": f"\"step-{step}\" exited with code {plan.exit_code}" + (": OOMKilled" if plan.step_reason == "OOMKilled" else ""),
        "TaskRunImagePullFailed": f"the step \"{step}\" in TaskRun \"{tr}\" failed to pull the image \"\". The pod errored "
                                  f"with the message: \"Back-off pulling image \"{TASKS[task][0]}\".\"",
        "TaskRunCancelled": f"TaskRun \"{tr}\" was cancelled. TaskRun cancelled as the PipelineRun it belongs to has been cancelled.",
        "TaskRunTimeout": f"TaskRun \"{tr}\" failed to finish within \"1h0m0s\"",
    }[plan.reason]


def step_states(task: str, start: float, now: float, plan: TaskPlan | None, done_upto: int) -> list[dict[str, Any]]:
    """Step states: steps < done_upto terminated; the next running (plan None) or ending as the plan says."""
    image, steps = TASKS[task]
    out: list[dict[str, Any]] = []
    span = max(1.0, (now - start) / max(1, len(steps)))
    for i, s in enumerate(steps):
        st: dict[str, Any] = {"name": s, "container": f"step-{s}", "imageID": image_id(task)}
        t0 = start + i * span
        if i < done_upto:
            st["terminated"] = {"exitCode": 0, "reason": "Completed", "startedAt": rfc3339(t0), "finishedAt": rfc3339(t0 + span),
                                "containerID": f"containerd://{zlib.crc32(f'{task}{s}{start}'.encode()):08x}"}
        elif i == done_upto and plan is None:
            st["running"] = {"startedAt": rfc3339(t0)}
        elif plan is not None and i == done_upto and not plan.ok:
            if plan.reason == "TaskRunImagePullFailed":
                st["waiting"] = {"reason": "ImagePullBackOff", "message": f"Back-off pulling image \"{image}\""}
                st.pop("imageID")
            else:
                st["terminated"] = {"exitCode": plan.exit_code, "reason": plan.step_reason, "startedAt": rfc3339(t0),
                                    "finishedAt": rfc3339(now)}
        elif plan is not None and not plan.ok:
            st["terminated"] = {"exitCode": 1, "reason": "TaskRunCancelled" if plan.reason == "TaskRunCancelled" else "Error",
                                "message": "Step was skipped due to an earlier step failing", "startedAt": rfc3339(now),
                                "finishedAt": rfc3339(now)}
        else:
            st["waiting"] = {"reason": "PodInitializing"}
            st.pop("imageID")
        out.append(st)
    return out


def tr_status(tr: str, task: str, start: float, now: float, plan: TaskPlan | None, done_upto: int,
              pending: bool = False) -> dict[str, Any]:
    st: dict[str, Any] = {"podName": f"{tr}-pod", "startTime": rfc3339(start), "taskSpec": TASK_SPECS[task],
                          "provenance": {"featureFlags": {"enableAPIFields": "beta", "resultExtractionMethod": "termination-message"}}}
    if pending:
        st["conditions"] = cond("Unknown", "Pending", f"pod status \"Initialized\":\"False\"; message: \"containers with incomplete status: [prepare place-scripts]\"", now)
        st["steps"] = step_states(task, start, now, None, -1)
        for s in st["steps"]:
            s.pop("running", None)
            s.pop("imageID", None)
            s["waiting"] = {"reason": "PodInitializing"}
        return st
    if plan is None:
        st["conditions"] = cond("Unknown", "Running", "Not all Steps in the Task have finished executing", now)
        st["steps"] = step_states(task, start, now, None, done_upto)
        return st
    steps = TASKS[task][1]
    st["conditions"] = cond("True" if plan.ok else "False", plan.reason, tr_message(plan, tr, task), now)
    st["completionTime"] = rfc3339(now)
    st["steps"] = step_states(task, start, now, plan, len(steps) if plan.ok else (plan.failing_step or 0))
    if plan.ok:
        st["results"] = [{"name": f"{s}-time", "type": "string", "value": str(int(now))} for s in steps]
    return st


PR_MESSAGES = {
    "Succeeded": "Tasks Completed: {n} (Failed: 0, Cancelled 0), Skipped: 0",
    "Completed": "Tasks Completed: {n} (Failed: 0, Cancelled 0), Skipped: 1",
    "Failed": "Tasks Completed: {n} (Failed: 1, Cancelled 0), Skipped: {s}",
    "Cancelled": "PipelineRun \"{name}\" was cancelled",
    "PipelineRunCancelled": "PipelineRun \"{name}\" was cancelled",
    "PipelineRunTimeout": "PipelineRun \"{name}\" failed to finish within \"1h0m0s\"",
}


def pr_reason(outcome: str, rng: random.Random) -> str:
    return {"Succeeded": "Succeeded", "Completed": "Completed", "Failed": "Failed", "OOM": "Failed",
            "ImagePull": "Failed", "Timeout": "PipelineRunTimeout",
            "Cancelled": rng.choice(("Cancelled", "PipelineRunCancelled"))}[outcome]


def child_ref(tr: str, ptask: str) -> dict[str, str]:
    return {"apiVersion": TASK_RUN.api_version, "kind": TASK_RUN.name, "name": tr, "pipelineTaskName": ptask}


def pr_status(pipeline: str, start: float, now: float, children: list[dict[str, str]], reason: str | None,
              name: str, n_done: int, n_total: int, custom: str | None = None) -> dict[str, Any]:
    st: dict[str, Any] = {"startTime": rfc3339(start), "pipelineSpec": pipeline_spec(pipeline, custom),
                          "childReferences": children,
                          "provenance": {"featureFlags": {"enableAPIFields": "beta", "awaitSidecarReadiness": True}}}
    if reason is None:
        st["conditions"] = cond("Unknown", "Running", f"Tasks Completed: {n_done} (Failed: 0, Cancelled 0), Incomplete: {n_total - n_done}, Skipped: 0", now)
        return st
    ok = reason in ("Succeeded", "Completed")
    st["conditions"] = cond("True" if ok else "False", reason,
                            PR_MESSAGES.get(reason, PR_MESSAGES["Failed"]).format(n=n_done, s=n_total - n_done, name=name), now)
    st["completionTime"] = rfc3339(now)
    if ok:
        st["results"] = [{"name": "commit", "value": f"{zlib.crc32(name.encode()):08x}"}]
    if reason == "Completed":
        st["skippedTasks"] = [{"name": "notify", "reason": "When Expressions evaluated to false",
                               "whenExpressions": [{"input": "$(params.revision)", "operator": "in", "values": ["main"]}]}]
    return st


# ---------------- custom runs ----------------
CR_MESSAGES = {
    "Succeeded": {"wait": "Wait finished after {d}", "approval": "Approved by alice"},
    "Failed": {"wait": "Wait failed: duration {d} is longer than the window", "approval": "Rejected by bob: not a release day"},
    "CustomRunTimedOut": "CustomRun \"{name}\" failed to finish within \"1h0m0s\"",
    "CustomRunCancelled": "CustomRun \"{name}\" was cancelled",
}


def customrun(ns: str, pr: str, pr_uid: str, pipeline: str, custom: str) -> dict[str, Any]:
    """The CustomRun a PipelineRun creates for its custom pipeline task (no pod: another controller runs it)."""
    ref, params = CUSTOM_TASKS[custom]
    labels = {"app.kubernetes.io/managed-by": "tekton-pipelines", "tekton.dev/memberOf": "tasks",
              "tekton.dev/pipeline": pipeline, "tekton.dev/pipelineRun": pr, "tekton.dev/pipelineTask": custom}
    return {"apiVersion": CUSTOM_RUN.api_version, "kind": CUSTOM_RUN.name,
            "metadata": {"name": f"{pr}-{custom}", "namespace": ns, "labels": labels,
                         "annotations": {"pipeline.tekton.dev/release": "v0.59.0"}, "ownerReferences": [owner_ref(pr, pr_uid)]},
            "spec": {"customRef": dict(ref), "params": params, "serviceAccountName": "pipeline", "timeout": "1h0m0s"}}


def custom_child_ref(cr: str, ptask: str) -> dict[str, str]:
    return {"apiVersion": CUSTOM_RUN.api_version, "kind": CUSTOM_RUN.name, "name": cr, "pipelineTaskName": ptask}


def cr_status(name: str, custom: str, start: float, now: float, reason: str | None, generation: int = 1) -> dict[str, Any]:
    """Status a custom-task controller writes: Running (reason None) or one of CUSTOM_OUTCOMES."""
    st: dict[str, Any] = {"startTime": rfc3339(start), "observedGeneration": generation, "extraFields": {}}
    if reason is None:
        st["conditions"] = cond("Unknown", "Running", "", now)
        return st
    ok = reason == "Succeeded"
    msg = CR_MESSAGES[reason]
    text = (msg[custom] if isinstance(msg, dict) else msg).format(name=name, d=f"{max(0, int(now - start))}s")
    st["conditions"] = cond("True" if ok else "False", reason, text, now)
    st["completionTime"] = rfc3339(now)
    if ok and custom == "approval":
        st["results"] = [{"name": "approvedBy", "value": "alice"}]
    return st


def custom_outcome(pr_outcome: str, rng: random.Random) -> str:
    """How a PipelineRun's custom task ends: cancelled with a cancelled PipelineRun, else drawn."""
    if pr_outcome == "Cancelled":
        return "CustomRunCancelled"
    return rng.choices(CUSTOM_OUTCOMES, CUSTOM_WEIGHTS)[0]


def finished_run(rng: random.Random, ns: str, name: str, start: float, max_tasks: int | None = None,
                 custom: str | None = None, custom_rng: random.Random | None = None
                 ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A finished PipelineRun and its TaskRuns (and CustomRun with `custom`), uid/creationTimestamp set (for bulk
    preload). The custom task's draws come from `custom_rng`, so the PipelineRuns and TaskRuns of a seed are the
    same with or without it."""
    fits = [p for p, t in PIPELINES.items() if not max_tasks or len(t) >= max_tasks]
    pipeline = rng.choice(fits or tuple(PIPELINES))
    tasks = PIPELINES[pipeline][: max_tasks] if max_tasks else PIPELINES[pipeline]
    outcome = rng.choices(OUTCOMES, WEIGHTS)[0]
    revision = f"{rng.getrandbits(40):010x}"
    pr = pipelinerun(ns, name, pipeline, revision)
    pr_uid = new_uid(rng)
    pr["metadata"].update(uid=pr_uid, generation=1, creationTimestamp=rfc3339(start))
    fail_at = len(tasks) - 1 if outcome in ("Succeeded", "Completed") else rng.randrange(len(tasks))
    trs: list[dict[str, Any]] = []
    children = []
    t = start + 2
    for i, (ptask, task) in enumerate(tasks):
        if i > fail_at:
            break
        tr = taskrun(ns, name, pr_uid, pipeline, ptask, task, revision)
        trn = tr["metadata"]["name"]
        tr["metadata"].update(uid=new_uid(rng), generation=1, creationTimestamp=rfc3339(t))
        plan = plan_for(outcome, i == fail_at and outcome not in ("Succeeded", "Completed"), trn, task, rng)
        dur = rng.uniform(5, 240)
        tr["status"] = tr_status(trn, task, t, t + dur, plan, 0)
        trs.append(tr)
        children.append(child_ref(trn, ptask))
        t += dur + 1
    reason = pr_reason(outcome, rng)
    n_done, n_total = len(trs) - (0 if reason in ("Succeeded", "Completed") else 1), len(tasks)
    runs: list[dict[str, Any]] = trs
    if custom is not None:
        crng = custom_rng or random.Random(f"{name}/{custom}")
        cr = customrun(ns, name, pr_uid, pipeline, custom)
        crn = cr["metadata"]["name"]
        cr["metadata"].update(uid=new_uid(crng), generation=1, creationTimestamp=rfc3339(start + 1))
        cr_reason = custom_outcome(outcome, crng)
        cancelled = cr_reason == "CustomRunCancelled"
        cr["status"] = cr_status(crn, custom, start + 1, start + 1 + crng.uniform(1, 60), cr_reason, 2 if cancelled else 1)
        if cancelled:
            cr["spec"]["status"] = "RunCancelled"
            cr["metadata"]["generation"] = 2
        runs = [cr, *trs]
        children.insert(0, custom_child_ref(crn, custom))
        n_total += 1
        if cr_reason == "Succeeded":
            n_done += 1
        elif reason in ("Succeeded", "Completed"):
            reason = "Failed"  # a failed custom task fails its PipelineRun
    pr["status"] = pr_status(pipeline, start, t, children, reason, name, n_done, n_total, custom)
    if reason in ("Cancelled", "PipelineRunCancelled"):
        pr["spec"]["status"] = "Cancelled"
    return pr, runs


# ---------------- logs ----------------
_WORDS = ("compiling", "package", "ok", "downloading", "module", "cache", "layer", "pushed", "digest", "warning",
          "resolving", "deltas", "test", "PASS", "coverage", "artifact", "github.com/example/app", "internal/api")


def step_log(pod: str, container: str, finished: bool, failed: bool = False) -> str:
    """A deterministic step log: usually short, some thousands of lines, some with ANSI colour or other escapes."""
    h = zlib.crc32(f"{pod}/{container}".encode())
    rng = random.Random(h)
    kind = h % 100
    n = rng.randint(3000, 6000) if kind < 4 else rng.randint(8, 120)
    if not finished:
        n = max(1, n // 2)
    colour = kind % 5 == 0
    escapes = kind in (7, 42, 77)
    lines = []
    if escapes:
        lines.append(f"\x1b]0;{container} - building\x07\x1b[2J\x1b[Hstarting {container}")
    for i in range(n):
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 9)))
        line = f"[{container}] {i:05d} {words}"
        if colour and i % 7 == 0:
            line = f"\x1b[1;32mINFO\x1b[0m {line} \x1b[33m({rng.randint(1, 999)}ms)\x1b[0m"
        elif escapes and i % 50 == 3:
            line = f"\x1b[1A\x1b[K{line}\x1b]8;;https://example.com/build/{i}\x1b\\link\x1b]8;;\x1b\\"
        lines.append(line)
    if finished:
        lines.append("\x1b[31mERROR: step failed\x1b[0m" if (failed and colour) else ("ERROR: step failed" if failed else "done"))
    return "\n".join(lines) + "\n"


# ---------------- events ----------------
def run_events(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The events Tekton's controller records for a run, derived from its status."""
    md = obj.get("metadata") or {}
    st = obj.get("status") or {}
    kind = obj.get("kind", TASK_RUN.name)
    start = st.get("startTime") or md.get("creationTimestamp")
    c = next((c for c in st.get("conditions") or () if c.get("type") == "Succeeded"), None)
    evs = [event(md, kind, "Normal", "Started", "", start, 0)]
    if c is not None:
        running = {TASK_RUN.name: "Not all Steps in the Task have finished executing", CUSTOM_RUN.name: "",
                   PIPELINE_RUN.name: "Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: 1, Skipped: 0"}
        evs.append(event(md, kind, "Normal", "Running", c.get("message", "") if c.get("status") == "Unknown" else
                         running.get(kind, ""), start, 1))
        if c.get("status") in ("True", "False"):
            evs.append(event(md, kind, "Normal" if c["status"] == "True" else "Warning", c.get("reason", ""),
                             c.get("message", ""), st.get("completionTime") or c.get("lastTransitionTime"), 2))
    return evs


def event(md: dict[str, Any], kind: str, typ: str, reason: str, message: str, ts: str | None, i: int) -> dict[str, Any]:
    name = md.get("name", "")
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{name}.{zlib.crc32((str(md.get('uid')) + str(i) + reason).encode()):016x}",
                         "namespace": md.get("namespace", ""), "creationTimestamp": ts, "resourceVersion": md.get("resourceVersion", "")},
            "involvedObject": {"kind": kind, "namespace": md.get("namespace", ""), "name": name, "uid": md.get("uid", ""),
                               "apiVersion": BY_NAME[kind].api_version if kind in BY_NAME else PIPELINE_RUN.api_version,
                               "resourceVersion": md.get("resourceVersion", "")},
            "reason": reason, "message": message, "type": typ, "count": 1,
            "source": {"component": f"{kind}"}, "firstTimestamp": ts, "lastTimestamp": ts,
            "reportingComponent": "tekton-pipelines-controller", "reportingInstance": ""}
