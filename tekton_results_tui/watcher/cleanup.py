"""The ONLY code that deletes runs from a cluster.

`plan(...)` (re-exported from cleanup_plan, pure on the store) decides; `execute(plan, api_client)`
deletes each Deletable run with preconditions on its uid and its STORED resourceVersion and
background propagation (a PipelineRun's TaskRuns and CustomRuns go with it). Before deleting a
PipelineRun it asks the cluster for its children: one the history does not hold final at its
live resourceVersion (created after the plan, or missed) stops the delete. Outcomes come back
in words, one per run:
  deleted | 409 "changed since it was stored — not deleted" | "child TaskRun x is not stored
  with its final state — not deleted" | 404 "already gone"
  | 403 "not allowed: cannot delete pipelineruns.tekton.dev in namespace ci".
Runs deleted are marked gone in the history given (the watcher, if one runs, would do it when
the DELETED events arrive). Read-only mode cannot reach a delete: `execute` raises on a plan
made from a read-only history or when told it runs read-only.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.history import Gone, History
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
from tekton_results_tui.watcher.kube import KubeTarget, list_runs

log = logging.getLogger(__name__)

DELETED, CONFLICT, ALREADY_GONE, FORBIDDEN, FAILED = "deleted", "conflict", "gone", "forbidden", "error"
UNSTORED = "unstored"  # a child in the cluster is not stored with its final state: not deleted
REQUEST_TIMEOUT = (5.0, 30.0)


class ReadOnlyRefused(RuntimeError):
    """A delete was attempted in read-only mode (this is a bug in the caller, never a user path)."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one run."""

    run: RunRef
    result: str  # deleted | conflict | unstored | gone | forbidden | error
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


@dataclass(frozen=True, order=True)
class LiveChild:
    """A child run as the cluster has it now."""

    kind: str
    name: str
    uid: str
    rv: int


def owner_label(kind: kinds.RunKind) -> str:
    """The label Tekton puts on the runs a run of `kind` creates: `tekton.dev/pipelineRun=<name>`."""
    return f"{kind.group}/{kind.name[:1].lower()}{kind.name[1:]}"


def live_children(co: client.CustomObjectsApi, run: RunRef) -> list[LiveChild]:
    """The runs in the cluster that background propagation would delete with `run`: those of its child kinds in
    its namespace labelled with its name (`tekton.dev/pipelineRun`, as Tekton labels them) and owned by its uid."""
    out: list[LiveChild] = []
    for k in kinds.children_of(run.kind):
        cont: str | None = None
        while True:
            kw: dict[str, Any] = {"label_selector": f"{owner_label(run.run_kind)}={run.name}", "limit": 500,
                                  "_preload_content": False, "_request_timeout": REQUEST_TIMEOUT}
            if cont:
                kw["_continue"] = cont
            with ke.api_call("list", k.resource, run.namespace):
                resp = list_runs(co, k, run.namespace, **kw)
                try:
                    data = json.loads(resp.data)
                finally:
                    resp.release_conn()
            for item in data.get("items") or []:
                md = item.get("metadata") or {}
                if any(isinstance(ref, dict) and ref.get("uid") == run.uid for ref in md.get("ownerReferences") or []):
                    out.append(LiveChild(k.name, str(md.get("name")), str(md.get("uid")),
                                         g.parse_rv(md.get("resourceVersion"))))
            cont = (data.get("metadata") or {}).get("continue") or None
            if not cont:
                break
    return sorted(out)


def unstored_child(run: RunRef, live: list[LiveChild]) -> Outcome | None:
    """Every child the delete would take must be stored, final, at its live resourceVersion (the plan's
    `child_refs` are exactly the children stored final); otherwise nothing is deleted and the outcome says
    which child and why."""
    stored = {c.uid: c for c in run.child_refs}
    for child in live:
        ref = stored.get(child.uid)
        if ref is None:
            return Outcome(run, UNSTORED, f"child {child.kind} {child.name} is not stored with its final state "
                                          "— not deleted")
        if ref.rv != child.rv:
            return Outcome(run, CONFLICT, f"child {child.kind} {child.name} changed since it was stored — not deleted")
    return None


def delete_one(co: client.CustomObjectsApi, run: RunRef) -> Outcome:
    """DELETE one run: preconditions on uid and the stored resourceVersion, background propagation; a
    PipelineRun only when every child the cluster has for it now is stored final at its live version
    (the delete's preconditions cover the PipelineRun alone, and the owner cascade takes the children)."""
    k = run.run_kind
    if kinds.children_of(run.kind):
        try:
            blocked = unstored_child(run, live_children(co, run))
        except Exception as exc:  # noqa: BLE001 - forbidden, unreachable etc.: not deleted, in words
            return Outcome(run, FAILED, f"not deleted: listing its children: "
                           + ke.describe(exc, "list", "/".join(c.plural for c in kinds.children_of(run.kind))
                                         + "." + k.group, run.namespace))
        if blocked is not None:
            return blocked
    body = client.V1DeleteOptions(
        preconditions=client.V1Preconditions(uid=run.uid, resource_version=str(run.rv)),
        propagation_policy="Background",
    )
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


def mark_gone(history: History, plan: CleanupPlan, outcomes: list[Outcome], at: int) -> None:
    """The runs deleted (or found gone) leave the history's "in the cluster" view at once, children included,
    rather than when a watcher sees the DELETED events (there may be none running)."""
    uids = [u for o in outcomes if o.result in (DELETED, ALREADY_GONE)
            for u in (o.run.uid, *(c.uid for c in o.run.child_refs))]
    if uids:
        history.apply([Gone(u, at) for u in uids], cluster=plan.cluster)


def execute(plan: CleanupPlan, api_client: client.ApiClient, progress_cb: ProgressFn | None = None, *,
            read_only: bool = False, history: History | None = None,
            should_stop: Callable[[], bool] | None = None) -> list[Outcome]:
    """Delete the plan's Deletable runs, one request each; one Outcome per run, in plan order. With a
    `history`, the runs deleted are marked gone in it at once.

    Raises ReadOnlyRefused for a read-only plan, history or caller: no request is sent.
    `should_stop()` (checked between runs) lets a UI cancel a bulk delete part-way.
    """
    if read_only or plan.read_only or (history is not None and history.read_only):
        raise ReadOnlyRefused("read-only: deleting runs from the cluster is not available")
    runs = plan.deletable
    co = client.CustomObjectsApi(api_client)
    out: list[Outcome] = []
    try:
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
    finally:
        if history is not None:
            try:
                mark_gone(history, plan, out, int(time.time()))
            except Exception as exc:  # noqa: BLE001 - the watcher or the next relist marks them instead
                log.warning("cleanup: marking the deleted runs gone in the history failed: %s", exc)
    return out


def delete_runs(target: KubeTarget, plan: CleanupPlan, progress_cb: ProgressFn | None = None, *,
                read_only: bool = False, history: History | None = None,
                should_stop: Callable[[], bool] | None = None) -> list[Outcome]:
    """`execute` with a fresh ApiClient for `target` (what WatcherService.delete_runs calls)."""
    if read_only or plan.read_only or (history is not None and history.read_only):
        raise ReadOnlyRefused("read-only: deleting runs from the cluster is not available")
    api = target.new_api_client()
    try:
        return execute(plan, api, progress_cb, read_only=read_only, history=history, should_stop=should_stop)
    finally:
        api.close()


def summarize(outcomes: list[Outcome]) -> str:
    """"3 deleted, 1 changed since stored, 1 not allowed" for a notification or the last CLI line."""
    words = {DELETED: "deleted", CONFLICT: "changed since stored (not deleted)",
             UNSTORED: "with a child not stored (not deleted)", ALREADY_GONE: "already gone",
             FORBIDDEN: "not allowed", FAILED: "failed"}
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.result] = counts.get(o.result, 0) + 1
    if not counts:
        return "nothing deleted"
    return ", ".join(f"{n} {words[k]}" for k, n in counts.items())
