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

from tekton_results_tui import kinds
from tekton_results_tui.watcher import kube_errors as ke
from tekton_results_tui.watcher.cleanup_plan import (  # noqa: F401 - the planning API, re-exported
    GONE,
    ChildRef,
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
    run_children_text,
    run_line,
    select_by_filter,
    targets_for_ids,
)
from tekton_results_tui.watcher.kube import KubeTarget

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


def _outcome(run: RunRef, err: ke.KubeError) -> Outcome:
    if isinstance(err, ke.Conflict):
        return Outcome(run, CONFLICT, "changed since it was stored — not deleted")
    if isinstance(err, ke.NotFound):
        return Outcome(run, ALREADY_GONE, "already gone")
    if isinstance(err, ke.Forbidden):
        return Outcome(run, FORBIDDEN, f"not allowed: cannot delete {run.run_kind.resource} in namespace {run.namespace}")
    if isinstance(err, ke.Unauthorized):
        return Outcome(run, FAILED, f"not authorized: the cluster rejected the credentials ({err.detail})")
    return Outcome(run, FAILED, f"not deleted: {err}")


def children_changed(co: client.CustomObjectsApi, run: RunRef) -> Outcome | None:
    """Background propagation deletes a PipelineRun's children with it, and a delete precondition covers only
    the PipelineRun: so each child's live resourceVersion must still be the stored one (gone is fine)."""
    for child in run.child_refs:
        k = kinds.BY_NAME[child.kind]
        try:
            with ke.api_call("get", k.resource, run.namespace):
                live = co.get_namespaced_custom_object(k.group, k.version, run.namespace, k.plural, child.name,
                                                       _request_timeout=REQUEST_TIMEOUT)
        except ke.NotFound:
            continue
        except Exception as exc:  # noqa: BLE001 - forbidden, unreachable etc.: not deleted, in words
            return Outcome(run, FAILED, f"not deleted: reading child {child.kind} {child.name}: "
                           + ke.describe(exc, "get", k.resource, run.namespace))
        md = live.get("metadata") or {} if isinstance(live, dict) else {}
        if md.get("uid") != child.uid:
            continue  # the stored child is gone; another run reuses its name (not owned by this run)
        if str(md.get("resourceVersion")) != str(child.rv):
            return Outcome(run, CONFLICT, f"child {child.kind} {child.name} changed since it was stored — not deleted")
    return None


def delete_one(co: client.CustomObjectsApi, run: RunRef) -> Outcome:
    """DELETE one run: preconditions on uid and the stored resourceVersion, background propagation; for a
    PipelineRun only while each child is still at its stored resourceVersion."""
    if run.child_refs:
        changed = children_changed(co, run)
        if changed is not None:
            return changed
    body = client.V1DeleteOptions(
        preconditions=client.V1Preconditions(uid=run.uid, resource_version=str(run.rv)),
        propagation_policy="Background",
    )
    k = run.run_kind
    try:
        with ke.api_call("delete", k.resource, run.namespace):
            co.delete_namespaced_custom_object(k.group, k.version, run.namespace, k.plural, run.name, body=body,
                                               _request_timeout=REQUEST_TIMEOUT)
    except ke.KubeError as err:  # every failure is an outcome in words
        return _outcome(run, err)
    except Exception as exc:  # noqa: BLE001 - whatever else the client raises: not deleted, said so
        return Outcome(run, FAILED, "not deleted: " + ke.describe(exc, "delete", k.resource, run.namespace))
    extra = f" with {run_children_text(run)}" if run.child_refs else ""
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
