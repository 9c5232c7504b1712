#!/usr/bin/env python3
"""Generate a realistic `kubectl get pipelineruns,taskruns -A -o yaml` dump (a v1 List).

PipelineRuns with their TaskRuns covering every outcome (Succeeded, Failed with several
reasons, Cancelled, Timeout, running/pending), some v1beta1 objects, some runs with
`results.tekton.dev/resultAnnotations` (one malformed), and standalone TaskRuns. The same
--seed and --now give byte-identical output.

    python scripts/make_dump.py --out dump.yaml --runs 200 [--seed 7] [--now 2026-03-01T12:00:00Z] [--json]
    python scripts/make_dump.py --out dump.yaml --expected expected.json   # what each Result should be

`build_dump(runs, seed, now)` returns (list_object, expected) for tests: expected maps each
Result name to the outcome the generator chose (status, reason, start/end, record count),
decided here independently of the store's own status rules.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from datetime import datetime, timezone

NAMESPACES = ("ci", "dev", "release")
PIPELINES = {
    "build-and-test": ["git-clone", "build", "unit-test", "lint"],
    "deploy": ["git-clone", "render-manifests", "kubectl-apply"],
    "nightly-e2e": ["git-clone", "build", "provision", "e2e", "teardown"],
    "docs": ["git-clone", "mkdocs-build"],
}
STEPS = {
    "git-clone": ["clone"],
    "build": ["prepare", "build", "push"],
    "unit-test": ["test"],
    "lint": ["golangci-lint"],
    "render-manifests": ["kustomize"],
    "kubectl-apply": ["apply", "wait"],
    "provision": ["terraform"],
    "e2e": ["run-e2e", "collect"],
    "teardown": ["terraform-destroy"],
    "mkdocs-build": ["build-docs"],
}
# outcome -> (status word expected in the store, PipelineRun condition status, PipelineRun reason, weight)
OUTCOMES = [
    ("succeeded", "SUCCESS", "True", "Succeeded", 50),
    ("completed", "SUCCESS", "True", "Completed", 3),
    ("failed", "FAILURE", "False", "Failed", 15),
    ("couldnt-get-pipeline", "FAILURE", "False", "CouldntGetPipeline", 2),
    ("validation-failed", "FAILURE", "False", "PipelineValidationFailed", 2),
    ("cancelled", "CANCELLED", "False", "Cancelled", 6),
    ("timeout", "TIMEOUT", "False", "PipelineRunTimeout", 6),
    ("running", "UNKNOWN", "Unknown", "Running", 5),
    ("pending", "UNKNOWN", "Unknown", "PipelineRunPending", 2),
]
TASK_FAIL_REASONS = ["Failed", "StepOOM", "PodEvicted", "TaskRunImagePullFailed"]


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_now(text: str | None) -> int:
    if not text:
        return int(datetime.now(tz=timezone.utc).timestamp())
    t = text.strip().replace("Z", "+00:00")
    dt = datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


class Gen:
    def __init__(self, seed: int, now: int) -> None:
        self.rnd = random.Random(seed)
        self.now = now
        self.rv = 100_000

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rnd.getrandbits(128), version=4))

    def next_rv(self) -> str:
        self.rv += self.rnd.randint(1, 40)
        return str(self.rv)

    def suffix(self) -> str:
        return "".join(self.rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(5))


def _cond(status: str, reason: str, message: str, when: int) -> dict:
    return {"type": "Succeeded", "status": status, "reason": reason, "message": message,
            "lastTransitionTime": rfc3339(when)}


def _taskrun(g: Gen, api: str, ns: str, pr: dict | None, pipeline: str | None, ptask: str | None, task: str,
             created: int, outcome: str, end: int | None, pr_name: str | None) -> dict:
    """A TaskRun in the shape the Tekton controller leaves it; outcome: ok | fail:<reason> | cancel | timeout | run."""
    name = f"{pr_name}-{ptask}" if pr_name else f"{task}-run-{g.suffix()}"
    labels = {"app.kubernetes.io/managed-by": "tekton-pipelines", "tekton.dev/task": task}
    meta: dict = {
        "name": name, "namespace": ns, "uid": g.uid(), "resourceVersion": g.next_rv(), "generation": 1,
        "creationTimestamp": rfc3339(created), "labels": labels,
        "annotations": {"pipeline.tekton.dev/release": "v0.62.3"},
    }
    if pr is not None:
        labels.update({"tekton.dev/pipeline": pipeline, "tekton.dev/pipelineRun": pr_name,
                       "tekton.dev/pipelineRunUID": pr["metadata"]["uid"], "tekton.dev/pipelineTask": ptask})
        meta["ownerReferences"] = [{"apiVersion": api, "kind": "PipelineRun", "name": pr_name,
                                    "uid": pr["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    start = created + 1
    steps_out = []
    step_names = STEPS.get(task, ["run"])
    t = start + 3
    for i, st in enumerate(step_names):
        s_end = t + g.rnd.randint(2, 60) if end is None else min(end, t + g.rnd.randint(2, 60))
        state: dict
        if outcome == "run" and i == len(step_names) - 1:
            state = {"running": {"startedAt": rfc3339(t)}}
        elif outcome.startswith("fail") and i == len(step_names) - 1:
            state = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": rfc3339(t),
                                    "finishedAt": rfc3339(s_end), "containerID": f"containerd://{g.uid()}"}}
        else:
            state = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": rfc3339(t),
                                    "finishedAt": rfc3339(s_end), "containerID": f"containerd://{g.uid()}"}}
        steps_out.append({"name": st, "container": f"step-{st}", "imageID": f"registry.example.com/{st}@sha256:"
                          + uuid.UUID(int=g.rnd.getrandbits(128)).hex * 2, **state})
        t = s_end
    if outcome == "ok":
        cond = _cond("True", "Succeeded", "All Steps have completed executing", end or t)
    elif outcome.startswith("fail"):
        reason = outcome.split(":", 1)[1]
        cond = _cond("False", reason, f'"step-{step_names[-1]}" exited with code 1', end or t)
    elif outcome == "cancel":
        cond = _cond("False", "TaskRunCancelled", "TaskRun cancelled as the PipelineRun it belongs to has been cancelled.", end or t)
    elif outcome == "timeout":
        cond = _cond("False", "TaskRunTimeout", f"TaskRun {name} failed to finish within \"1h0m0s\"", end or t)
    else:
        cond = _cond("Unknown", "Running", "Not all Steps in the Task have finished executing", t)
    status: dict = {"conditions": [cond], "podName": f"{name}-pod", "startTime": rfc3339(start), "steps": steps_out,
                    "taskSpec": {"steps": [{"name": st, "image": f"registry.example.com/{st}:latest",
                                            "script": f"#!/bin/sh\nset -e\necho running {st}\n"} for st in step_names]}}
    if outcome != "run":
        status["completionTime"] = rfc3339(end or t)
    if task == "build" and outcome == "ok":
        status["results"] = [{"name": "IMAGE_DIGEST", "type": "string", "value": "sha256:" + uuid.UUID(int=g.rnd.getrandbits(128)).hex}]
    spec: dict = {"taskRef": {"name": task, "kind": "Task"}, "timeout": "1h0m0s",
                  "serviceAccountName": "default"}
    if api.endswith("v1beta1"):
        spec["serviceAccountName"] = "pipeline"
    return {"apiVersion": api, "kind": "TaskRun", "metadata": meta, "spec": spec, "status": status}


def build_dump(runs: int = 50, seed: int = 7, now: int | None = None) -> tuple[dict, dict]:
    """(a v1 List of PipelineRuns/TaskRuns, expected Results by name)."""
    g = Gen(seed, int(now if now is not None else parse_now(None)))
    items: list[dict] = []
    expected: dict[str, dict] = {}
    weights = [o[4] for o in OUTCOMES]
    for i in range(runs):
        # the first len(OUTCOMES) runs take each outcome once so every dump covers them all
        outcome = OUTCOMES[i] if i < len(OUTCOMES) else g.rnd.choices(OUTCOMES, weights)[0]
        key, want_status, cstatus, reason, _ = outcome
        ns = NAMESPACES[i % len(NAMESPACES)]
        pipeline = list(PIPELINES)[g.rnd.randrange(len(PIPELINES))]
        api = "tekton.dev/v1beta1" if i % 7 == 3 else "tekton.dev/v1"
        running = cstatus == "Unknown"
        # spread over the last 45 days; running ones are recent
        created = g.now - (g.rnd.randint(60, 3600) if running else g.rnd.randint(600, 45 * 86400))
        pr_name = f"{pipeline}-run-{g.suffix()}"
        pr_uid = g.uid()
        labels = {"app.kubernetes.io/managed-by": "tekton-pipelines", "tekton.dev/pipeline": pipeline}
        annotations: dict[str, str] = {}
        if i % 5 == 1:
            labels["triggers.tekton.dev/eventlistener"] = "github-listener"
            labels["triggers.tekton.dev/trigger"] = "on-push"
        if i % 4 == 2:
            annotations["results.tekton.dev/resultAnnotations"] = json.dumps({"repo": f"example/{pipeline}",
                                                                             "commit": uuid.UUID(int=g.rnd.getrandbits(128)).hex[:12]})
        if i == 6:  # one malformed user annotation: stored with a warning, never fatal
            annotations["results.tekton.dev/resultAnnotations"] = '{"repo": "example/broken",'
        pr: dict = {
            "apiVersion": api, "kind": "PipelineRun",
            "metadata": {"name": pr_name, "namespace": ns, "uid": pr_uid, "resourceVersion": "0", "generation": 1,
                         "creationTimestamp": rfc3339(created), "labels": labels, "annotations": annotations},
            "spec": {"pipelineRef": {"name": pipeline},
                     "params": [{"name": "revision", "value": uuid.UUID(int=g.rnd.getrandbits(128)).hex[:12]}],
                     "workspaces": [{"name": "source", "volumeClaimTemplate": {"spec": {
                         "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}]},
        }
        if api.endswith("v1beta1"):
            pr["spec"]["serviceAccountName"] = "pipeline"
            pr["spec"]["timeout"] = "1h0m0s"
        else:
            pr["spec"]["taskRunTemplate"] = {"serviceAccountName": "default"}
            pr["spec"]["timeouts"] = {"pipeline": "1h0m0s"}
        if reason == "PipelineRunPending":
            pr["spec"]["status"] = "PipelineRunPending"
        tasks = PIPELINES[pipeline]
        trs: list[dict] = []
        start = created + 1
        t = start
        end: int | None = None
        if key in ("couldnt-get-pipeline", "validation-failed", "pending"):
            tasks_run: list[tuple[str, str]] = []  # nothing ever started
        else:
            fail_at = g.rnd.randrange(len(tasks)) if key == "failed" else None
            stop_at = g.rnd.randrange(len(tasks)) if key in ("cancelled", "timeout", "running") else None
            tasks_run = []
            for j, task in enumerate(tasks):
                if fail_at is not None and j == fail_at:
                    tasks_run.append((task, "fail:" + g.rnd.choice(TASK_FAIL_REASONS)))
                    break
                if stop_at is not None and j == stop_at:
                    tasks_run.append((task, {"cancelled": "cancel", "timeout": "timeout", "running": "run"}[key]))
                    break
                tasks_run.append((task, "ok"))
        for task, tr_outcome in tasks_run:
            dur = g.rnd.randint(20, 900)
            tr_end = None if tr_outcome == "run" else min(t + dur, g.now - 5)
            tr = _taskrun(g, api, ns, pr, pipeline, task, task, t, tr_outcome, tr_end, pr_name)
            trs.append(tr)
            if tr_end is not None:
                t = tr_end + 2
        if not running:
            end = min(t + 3, g.now - 2) if tasks_run else start + 1
        pr_status: dict = {}
        if reason != "PipelineRunPending":
            msg = {"Succeeded": "Tasks Completed: %d (Failed: 0, Cancelled 0), Skipped: 0" % len(trs),
                   "Completed": "Tasks Completed: %d (Failed: 0, Cancelled 0), Skipped: 1" % len(trs),
                   "Failed": "Tasks Completed: %d (Failed: 1, Cancelled 0), Skipped: 0" % len(trs),
                   "CouldntGetPipeline": f"Error retrieving pipeline for pipelinerun {ns}/{pr_name}: pipelines.tekton.dev \"{pipeline}\" not found",
                   "PipelineValidationFailed": "Pipeline ci/x can't be Run; it has an invalid spec: missing field(s): spec.tasks[0].name",
                   "Cancelled": f"PipelineRun \"{pr_name}\" was cancelled",
                   "PipelineRunTimeout": f"PipelineRun \"{pr_name}\" failed to finish within \"1h0m0s\"",
                   "Running": "Tasks Completed: %d (Failed: 0, Cancelled 0), Incomplete: 1, Skipped: 0" % max(len(trs) - 1, 0)}
            pr_status["conditions"] = [_cond(cstatus, reason, msg[reason], end or t)]
            pr_status["startTime"] = rfc3339(start)
            if end is not None:
                pr_status["completionTime"] = rfc3339(end)
            if api.endswith("v1beta1") and i % 2 == 1:  # old minimal-embedded form
                pr_status["taskRuns"] = {tr["metadata"]["name"]: {"pipelineTaskName": tr["metadata"]["labels"]["tekton.dev/pipelineTask"],
                                                                  "status": {"conditions": tr["status"]["conditions"]}} for tr in trs}
            else:
                pr_status["childReferences"] = [{"apiVersion": api, "kind": "TaskRun", "name": tr["metadata"]["name"],
                                                 "pipelineTaskName": tr["metadata"]["labels"]["tekton.dev/pipelineTask"]} for tr in trs]
        else:
            pr_status = {"conditions": [_cond("Unknown", "PipelineRunPending", "PipelineRun is pending", created)]}
            start = None  # type: ignore[assignment]
        pr["status"] = pr_status
        pr["metadata"]["resourceVersion"] = g.next_rv()  # the PipelineRun is written last
        items.append(pr)
        items.extend(trs)
        expected[f"{ns}/results/{pr_uid}"] = {
            "display_name": pr_name, "kind": "PipelineRun", "api_version": api, "status": want_status, "reason": reason,
            "start_time": rfc3339(start) if start is not None else None,
            "end_time": rfc3339(end) if end is not None else None, "record_count": 1 + len(trs),
            "pipeline": pipeline, "annotations_malformed": i == 6,
        }
    # standalone TaskRuns (no PipelineRun): each is its own Result
    for k in range(max(2, runs // 10)):
        ns = NAMESPACES[k % len(NAMESPACES)]
        task = ["build", "lint", "unit-test"][k % 3]
        created = g.now - g.rnd.randint(600, 40 * 86400)
        outcome = ["ok", "fail:Failed", "ok", "timeout"][k % 4]
        dur = g.rnd.randint(20, 600)
        api = "tekton.dev/v1beta1" if k % 3 == 2 else "tekton.dev/v1"
        tr = _taskrun(g, api, ns, None, None, None, task, created, outcome, created + 1 + dur, None)
        items.append(tr)
        want = {"ok": ("SUCCESS", "Succeeded"), "fail:Failed": ("FAILURE", "Failed"),
                "timeout": ("TIMEOUT", "TaskRunTimeout")}[outcome]
        expected[f"{ns}/results/{tr['metadata']['uid']}"] = {
            "display_name": tr["metadata"]["name"], "kind": "TaskRun", "api_version": api, "status": want[0],
            "reason": want[1], "start_time": tr["status"]["startTime"], "end_time": tr["status"]["completionTime"],
            "record_count": 1, "pipeline": None, "annotations_malformed": False,
        }
    g.rnd.shuffle(items)  # kubectl lists kinds apart; the order must not matter to the store anyway
    items.sort(key=lambda o: o["kind"] != "PipelineRun")  # as `kubectl get pipelineruns,taskruns`: PRs first
    return {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}, expected


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output file (- for stdout)")
    ap.add_argument("--runs", type=int, default=50, help="PipelineRuns to generate (default 50)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--now", help="RFC 3339 time the dump is taken at (default: now)")
    ap.add_argument("--json", action="store_true", help="write JSON (kubectl -o json) instead of YAML")
    ap.add_argument("--expected", metavar="PATH", help="also write the expected Results as JSON here")
    a = ap.parse_args(argv)
    doc, expected = build_dump(a.runs, a.seed, parse_now(a.now))
    if a.json:
        text = json.dumps(doc, indent=4) + "\n"
    else:
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(doc, Dumper=dumper, sort_keys=False, default_flow_style=False, width=1_000_000)
    if a.out == "-":
        sys.stdout.write(text)
    else:
        with open(a.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    if a.expected:
        with open(a.expected, "w", encoding="utf-8") as fh:
            json.dump(expected, fh, indent=2, sort_keys=True)
    n_pr = sum(1 for o in doc["items"] if o["kind"] == "PipelineRun")
    print(f"wrote {len(doc['items'])} objects ({n_pr} PipelineRuns, {len(doc['items']) - n_pr} TaskRuns) "
          f"to {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
