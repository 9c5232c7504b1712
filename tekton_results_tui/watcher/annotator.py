"""Annotations written back on runs: which ones a run should carry, and the merge patch that puts them there.

A run carries `results.tekton.dev/result` and `.../record` (where it is stored) and, once its
final state — and its logs/events, when the watcher captures those — is committed,
`results.tekton.dev/stored: "true"`. A patch is sent only when the run's annotations differ
(our own patch comes back as a MODIFIED event that then needs nothing: no loop). A 403 on
patch turns annotating off for good and says so; storing goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kubernetes import client

from tekton_results_tui import kinds
from tekton_results_tui.store import grouping as g
from tekton_results_tui.watcher import kube_errors as ke
from tekton_results_tui.watcher.counters import Counters
from tekton_results_tui.watcher.kube import KubeTarget
from tekton_results_tui.watcher.messages import AnnotationPatch, StoredRun

log = logging.getLogger(__name__)


class Annotator:
    """Decides (writer thread, no network) and sends (a follow-up worker's thread) annotation patches."""

    def __init__(self, target: KubeTarget, counters: Counters, *, on_forbidden: Callable[[str], None] = lambda m: None,
                 timeout_s: float = 30.0) -> None:
        self.target, self.counters, self.on_forbidden = target, counters, on_forbidden
        self.timeout = (5.0, timeout_s)
        self.enabled = True  # False after a 403 on patch
        self._api: client.ApiClient | None = None

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    def wanted(self, run: StoredRun) -> dict[str, str]:
        """The annotations this run should carry now."""
        info = run.info
        out = {g.RESULT_ANNOTATION: info.result_name, g.RECORD_ANNOTATION: info.record_name}
        if info.final:
            out[g.STORED_ANNOTATION] = "true"
        return out

    def patch_for(self, run: StoredRun, annotations: dict[str, str]) -> AnnotationPatch | None:
        """The patch that sets `annotations` on the run, or None when it carries them already (or annotating is off)."""
        if not self.enabled or not annotations:
            return None
        have = (run.obj.get("metadata") or {}).get("annotations") or {}
        if all(have.get(k) == v for k, v in annotations.items()):
            return None
        kind = kinds.BY_NAME[run.info.kind]
        return AnnotationPatch(kind, run.info.namespace, run.info.name, dict(annotations))

    def send(self, p: AnnotationPatch) -> None:
        """Merge-patch the run (a follow-up worker's thread)."""
        if not self.enabled:
            return
        if self._api is None:
            self._api = self.target.new_api_client()
        co = client.CustomObjectsApi(self._api)
        k = p.kind
        try:
            with ke.api_call("patch", k.resource, p.namespace, self.target.server):
                co.patch_namespaced_custom_object(k.group, k.version, p.namespace, k.plural, p.name,
                                                  {"metadata": {"annotations": p.annotations}},
                                                  _content_type="application/merge-patch+json",
                                                  _request_timeout=self.timeout)
            self.counters.add("annotations")
        except ke.Forbidden as exc:
            if self.enabled:
                self.enabled = False
                self.on_forbidden(f"{exc}; annotations turned off, storing goes on")
        except (ke.NotFound, ke.Conflict):
            return  # deleted or changed meanwhile: the next event decides again
        except ke.ApiError as exc:
            self.counters.add("errors")
            log.warning("watcher: %s", exc)
