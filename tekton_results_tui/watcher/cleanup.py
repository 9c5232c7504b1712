"""The ONLY code that deletes runs from a cluster.

`plan(...)` (re-exported from cleanup_plan, pure on the store) decides; `execute(plan, api_client)`
deletes each Deletable run with preconditions on its uid and its STORED resourceVersion and
background propagation (its child TaskRuns go with a PipelineRun). Outcomes come back in
words, one per run:
  deleted | 409 "changed since it was stored — not deleted" | 404 "already gone"
  | 403 "not allowed: cannot delete pipelineruns.tekton.dev in namespace ci".
The history is never touched here: the watcher marks the run gone when the DELETED event
arrives (or a relist misses it). Read-only mode cannot reach a delete: `execute` raises
on a plan made from a read-only history or when told it runs read-only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from tekton_results_tui.watcher.cleanup_plan import (  # noqa: F401 - the planning API, re-exported
    GONE,
    CleanupPlan,
    Deletable,
    KeepRule,
    RecordTarget,
    ResultTarget,
    RunRef,
    Skipped,
    Target,
    plan,
    plan_lines,
    run_line,
    select_by_filter,
    targets_for_ids,
)
from tekton_results_tui.watcher.kube import GROUP, VERSION, KubeTarget, api_message, describe

log = logging.getLogger(__name__)

DELETED, CONFLICT, ALREADY_GONE, FORBIDDEN, FAILED = "deleted", "conflict", "gone", "forbidden", "error"
REQUEST_TIMEOUT = (5.0, 30.0)


class ReadOnlyRefused(RuntimeError):
    """A delete was attempted in read-only mode (this is a bug in the caller, never a user path)."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one run."""

    run: RunRef
    result: str  # deleted | conflict | gone | forbidden | error
    message: str  # in words, for people

    @property
    def ok(self) -> bool:
        return self.result == DELETED

    def line(self) -> str:
        return f"{self.run.label}: {self.message}"


ProgressFn = Callable[[int, int, Outcome], None]  # (done, total, latest outcome)


def _outcome(run: RunRef, exc: BaseException) -> Outcome:
    res = f"{run.plural}.{GROUP}"
    if isinstance(exc, ApiException):
        if exc.status == 409:
            return Outcome(run, CONFLICT, "changed since it was stored — not deleted")
        if exc.status == 404:
            return Outcome(run, ALREADY_GONE, "already gone")
        if exc.status == 403:
            return Outcome(run, FORBIDDEN, f"not allowed: cannot delete {res} in namespace {run.namespace}")
        if exc.status == 401:
            return Outcome(run, FAILED, f"not authorized: the cluster rejected the credentials ({api_message(exc)})")
    return Outcome(run, FAILED, "not deleted: " + describe(exc, "delete", res, run.namespace))


def children_changed(co: client.CustomObjectsApi, run: RunRef) -> Outcome | None:
    """Background propagation deletes a PipelineRun's children with it, and a delete precondition covers only
    the PipelineRun: so each child's live resourceVersion must still be the stored one (gone is fine)."""
    for name, uid, rv in run.child_versions:
        try:
            live = co.get_namespaced_custom_object(GROUP, VERSION, run.namespace, "taskruns", name,
                                                   _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            if exc.status == 404:
                continue
            return Outcome(run, FAILED, f"not deleted: reading child TaskRun {name}: "
                           + describe(exc, "get", f"taskruns.{GROUP}", run.namespace))
        except Exception as exc:  # noqa: BLE001 - unreachable etc.: not deleted, in words
            return Outcome(run, FAILED, "not deleted: " + describe(exc, "get", f"taskruns.{GROUP}", run.namespace))
        md = live.get("metadata") or {} if isinstance(live, dict) else {}
        if md.get("uid") != uid:
            continue  # the stored child is gone; another TaskRun reuses its name (not owned by this run)
        if str(md.get("resourceVersion")) != str(rv):
            return Outcome(run, CONFLICT, f"child TaskRun {name} changed since it was stored — not deleted")
    return None


def delete_one(co: client.CustomObjectsApi, run: RunRef) -> Outcome:
    """DELETE one run: preconditions on uid and the stored resourceVersion, background propagation; for a
    PipelineRun only while each child TaskRun is still at its stored resourceVersion."""
    if run.child_versions:
        changed = children_changed(co, run)
        if changed is not None:
            return changed
    body = client.V1DeleteOptions(
        preconditions=client.V1Preconditions(uid=run.uid, resource_version=str(run.rv)),
        propagation_policy="Background",
    )
    try:
        co.delete_namespaced_custom_object(GROUP, VERSION, run.namespace, run.plural, run.name, body=body,
                                           _request_timeout=REQUEST_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - every failure is an outcome in words
        return _outcome(run, exc)
    extra = f" with {len(run.children)} TaskRun{'' if len(run.children) == 1 else 's'}" if run.children else ""
    return Outcome(run, DELETED, "deleted" + extra)


def execute(plan: CleanupPlan, api_client: client.ApiClient, progress_cb: ProgressFn | None = None, *,
            read_only: bool = False, history: Any = None, should_stop: Callable[[], bool] | None = None) -> list[Outcome]:
    """Delete the plan's Deletable runs, one request each; one Outcome per run, in plan order.

    Raises ReadOnlyRefused for a read-only plan, history or caller: no request is sent.
    `should_stop()` (checked between runs) lets a UI cancel a bulk delete part-way.
    """
    if read_only or plan.read_only or bool(getattr(history, "read_only", False)):
        raise ReadOnlyRefused("read-only: deleting runs from the cluster is not available")
    runs = plan.deletable
    co = client.CustomObjectsApi(api_client)
    out: list[Outcome] = []
    for run in runs:
        if should_stop is not None and should_stop():
            break
        o = delete_one(co, run)
        if not o.ok:
            log.info("cleanup: %s", o.line())
        out.append(o)
        if progress_cb is not None:
            try:
                progress_cb(len(out), len(runs), o)
            except Exception:  # noqa: BLE001 - a UI callback never stops the deletes
                log.exception("cleanup progress callback")
    return out


def delete_runs(target: KubeTarget, plan: CleanupPlan, progress_cb: ProgressFn | None = None, *,
                read_only: bool = False, history: Any = None,
                should_stop: Callable[[], bool] | None = None) -> list[Outcome]:
    """`execute` with a fresh ApiClient for `target` (what WatcherService.delete_runs calls)."""
    if read_only or plan.read_only or bool(getattr(history, "read_only", False)):
        raise ReadOnlyRefused("read-only: deleting runs from the cluster is not available")
    api = target.new_api_client()
    try:
        return execute(plan, api, progress_cb, read_only=read_only, history=history, should_stop=should_stop)
    finally:
        api.close()


def summarize(outcomes: list[Outcome]) -> str:
    """"3 deleted, 1 changed since stored, 1 not allowed" for a notification or the last CLI line."""
    words = {DELETED: "deleted", CONFLICT: "changed since stored (not deleted)", ALREADY_GONE: "already gone",
             FORBIDDEN: "not allowed", FAILED: "failed"}
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.result] = counts.get(o.result, 0) + 1
    if not counts:
        return "nothing deleted"
    return ", ".join(f"{n} {words[k]}" for k, n in counts.items())
