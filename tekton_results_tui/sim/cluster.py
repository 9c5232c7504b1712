"""SimCluster: the store, the HTTP server, faults, pod logs and events behind one object."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tekton_results_tui.sim import objects
from tekton_results_tui.sim.errors import ApiError, bad_request
from tekton_results_tui.sim.faults import Faults
from tekton_results_tui.sim.selectors import field_match
from tekton_results_tui.sim.server import SimHTTPServer
from tekton_results_tui.kinds import BY_NAME, TASK_RUN
from tekton_results_tui.sim.store import KINDS, LedgerEntry, Store, rfc3339

TOKEN = "sim-token"
MAX_EVENTS = 200_000


@dataclass(frozen=True)
class RequestRecord:
    """One request as served: enough for a test to assert what was (not) written."""

    method: str
    path: str
    query: dict[str, str] = field(hash=False, compare=False)
    verb: str | None
    resource: str | None
    namespace: str | None
    status: int


class SimCluster:
    """A simulated Tekton cluster speaking the Kubernetes API over loopback HTTP."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", compaction_window: int = 10_000,
                 bookmark_interval_s: float = 5.0, clock: Callable[[], float] = time.time) -> None:
        self.host, self.port = host, port
        self.clock = clock
        self.bookmark_interval_s = bookmark_interval_s
        self.store = Store(compaction_window, clock)
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease", "ci", "dev", "prod"):
            self.store.ensure_namespace(ns)
        self.faults = Faults()
        self.requests: list[RequestRecord] = []
        self._req_lock = threading.Lock()
        self._logs: dict[tuple[str, str, str], str] = {}
        self._events: list[dict[str, Any]] = []
        self._events_by_uid: dict[str, list[dict[str, Any]]] = {}
        self._ev_lock = threading.Lock()
        self._synth_events: set[str] = set()  # uids whose events derive from the run (preloaded)
        self._stopping = threading.Event()
        self._server: SimHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------- lifecycle ----------
    def start(self) -> "SimCluster":
        self._stopping.clear()
        self._server = SimHTTPServer((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sim-apiserver", daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Close the listener and every open connection (watches end at once)."""
        self._stopping.set()
        with self.store.cond:
            self.store.cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.close_all()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "SimCluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_kubeconfig(self, path: str, context: str = "sim", namespace: str | None = None) -> str:
        """A kubeconfig for this server (plain http, token user) that kubectl and the python client accept."""
        ctx: dict[str, Any] = {"cluster": context, "user": "sim-user"}
        if namespace:
            ctx["namespace"] = namespace
        cfg = {"apiVersion": "v1", "kind": "Config", "current-context": context, "preferences": {},
               "clusters": [{"name": context, "cluster": {"server": self.url}}],
               "contexts": [{"name": context, "context": ctx}],
               "users": [{"name": "sim-user", "user": {"token": TOKEN}}]}
        d = os.path.dirname(os.path.abspath(path))
        os.makedirs(d, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(cfg, f, indent=2)  # JSON is YAML
            f.write("\n")
        return path

    # ---------- request log ----------
    def _record(self, method: str, path: str, query: dict[str, str], verb: str | None, resource: str | None,
                namespace: str | None, status: int) -> None:
        with self._req_lock:
            self.requests.append(RequestRecord(method, path, dict(query), verb, resource, namespace, status))

    def clear_requests(self) -> None:
        with self._req_lock:
            self.requests.clear()

    # ---------- in-process object API ----------
    @staticmethod
    def _kind(kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, not {kind!r}")
        return kind

    def create(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.store.create(self._kind(kind), obj, keep_status=True)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        e = self.store.get(self._kind(kind), namespace, name)
        return e.obj() if e is not None else None

    def update(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.store.update(self._kind(kind), obj, main_keeps_status=True)

    def patch_status(self, kind: str, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]:
        return self.store.update(self._kind(kind), {"metadata": {"name": name, "namespace": namespace}, "status": status},
                                 subresource="status", check_rv=False)

    def delete(self, kind: str, namespace: str, name: str, propagation: str = "Background") -> dict[str, Any] | None:
        try:
            return self.store.delete(self._kind(kind), namespace, name, propagation)
        except ApiError as err:
            if err.code == 404:
                return None
            raise

    def list_objects(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        entries, _, _, _ = self.store.list_page(self._kind(kind), namespace, 0, None, None, None)
        return [e.obj() for e in entries]

    @property
    def resource_version(self) -> int:
        return self.store.rv

    def compact(self, rv: int | None = None) -> None:
        self.store.compact(rv)

    def start_ledger(self) -> None:
        """From now on remember every run written (uid -> last live rv, deleted or not) beyond the watch window
        and beyond deletes: `ledger()` then says what a watcher must have stored, e.g. runs a pruner deleted."""
        with self.store.lock:
            if self.store.ledger is None:
                self.store.ledger = {}

    def ledger(self) -> dict[str, LedgerEntry]:
        """uid -> LedgerEntry(kind, (namespace, name), rv, deleted) since start_ledger() (empty if never started)."""
        with self.store.lock:
            return dict(self.store.ledger or {})

    @property
    def watch_window(self) -> int:
        """How many of the latest changes (all kinds together) a watch or a continue token can start within."""
        return self.store.window

    def set_watch_window(self, changes: int) -> None:
        """Shrink or grow the watch window at once: a watch from an rv older than the last `changes` changes
        gets 200 and an ERROR event with a 410 Expired Status (a paged list's continue: HTTP 410)."""
        self.store.set_window(changes)

    # ---------- logs and events ----------
    def set_pod_log(self, namespace: str, pod: str, container: str, text: str) -> None:
        self._logs[(namespace, pod, container)] = text

    def add_event(self, namespace: str, event: dict[str, Any]) -> None:
        ev = json.loads(json.dumps(event))
        md = ev.setdefault("metadata", {})
        md.setdefault("namespace", namespace)
        md.setdefault("name", f"{(ev.get('involvedObject') or {}).get('name', 'event')}.{random.getrandbits(64):016x}")
        md.setdefault("resourceVersion", str(self.store.rv))
        md.setdefault("creationTimestamp", rfc3339(self.clock()))
        ev.setdefault("apiVersion", "v1")
        ev.setdefault("kind", "Event")
        uid = (ev.get("involvedObject") or {}).get("uid", "")
        with self._ev_lock:
            self._events.append(ev)
            self._events_by_uid.setdefault(uid, []).append(ev)
            if len(self._events) > MAX_EVENTS:  # events have a TTL in real clusters too
                old = self._events.pop(0)
                lst = self._events_by_uid.get((old.get("involvedObject") or {}).get("uid", ""), [])
                if old in lst:
                    lst.remove(old)

    def events_for(self, namespace: str | None, fs: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
        uid_sel = fs.get("involvedObject.uid")
        with self._ev_lock:
            if uid_sel and uid_sel[0] == "=":
                cands = list(self._events_by_uid.get(uid_sel[1], ()))
                if uid_sel[1] in self._synth_events:
                    found = self.store.by_uid.get(uid_sel[1])
                    if found is not None:
                        e = self.store.get(found[0], *found[1])
                        if e is not None:
                            cands = objects.run_events(e.obj()) + cands
            else:
                cands = list(self._events)
        out = []
        for ev in cands:
            io = ev.get("involvedObject") or {}
            md = ev.get("metadata") or {}
            if namespace is not None and md.get("namespace") != namespace:
                continue
            vals = {f"involvedObject.{k}": str(v) for k, v in io.items()}
            vals.update({"reason": ev.get("reason", ""), "type": ev.get("type", ""), "metadata.name": md.get("name", ""),
                         "metadata.namespace": md.get("namespace", ""), "reportingComponent": ev.get("reportingComponent", ""),
                         "source": (ev.get("source") or {}).get("component", "")})
            if field_match(fs, vals):
                out.append(ev)
        return out

    def _pod_taskrun(self, namespace: str, pod: str) -> dict[str, Any] | None:
        """The run whose pod this is (a TaskRun: the only kind with step logs)."""
        found = self.store.pods.get((namespace, pod))
        if found is None:
            return None
        e = self.store.get(found[0], *found[1])
        return e.obj() if e is not None else None

    def pod_log(self, namespace: str, pod: str, container: str | None) -> str:
        """Step logs: 404 when the pod is unknown, 400 when the container is not valid or not started."""
        tr = self._pod_taskrun(namespace, pod)
        explicit = {c: t for (n, p, c), t in list(self._logs.items()) if n == namespace and p == pod}
        if tr is None and not explicit:
            raise ApiError(404, f'pods "{pod}" not found', "NotFound", {"name": pod, "kind": "pods"})
        steps = {s.get("container"): s for s in ((tr or {}).get("status") or {}).get("steps") or ()}
        names = sorted(set(steps) | set(explicit))
        if not container:
            if len(names) != 1:
                raise bad_request(f"a container name must be specified for pod {pod}, choose one of: [{' '.join(names)}]")
            container = names[0]
        if container in explicit:
            return explicit[container]
        st = steps.get(container)
        if st is None:
            raise bad_request(f"container {container} is not valid for pod {pod}")
        if "terminated" in st:
            t = st["terminated"]
            if t.get("reason") == "TaskRunCancelled" and "Step was skipped" in (t.get("message") or ""):
                return ""
            return objects.step_log(pod, container, True, failed=t.get("exitCode", 0) != 0)
        if "running" in st:
            return objects.step_log(pod, container, False)
        reason = (st.get("waiting") or {}).get("reason", "PodInitializing")
        raise bad_request(f'container "{container}" in pod "{pod}" is waiting to start: {reason}')

    def pod_object(self, namespace: str, pod: str) -> dict[str, Any]:
        tr = self._pod_taskrun(namespace, pod)
        if tr is None:
            raise ApiError(404, f'pods "{pod}" not found', "NotFound", {"name": pod, "kind": "pods"})
        steps = (tr.get("status") or {}).get("steps") or []
        statuses = []
        for s in steps:
            state = {k: s[k] for k in ("running", "terminated", "waiting") if k in s} or {"waiting": {"reason": "PodInitializing"}}
            statuses.append({"name": s["container"], "image": objects.TASKS.get(tr["metadata"]["labels"].get("tekton.dev/task", ""), ("",))[0],
                             "imageID": s.get("imageID", ""), "ready": "running" in s, "restartCount": 0, "state": state})
        done = steps and all("terminated" in s for s in steps)
        failed = any(s.get("terminated", {}).get("exitCode", 0) for s in steps)
        return {"kind": "Pod", "apiVersion": "v1",
                "metadata": {"name": pod, "namespace": namespace, "uid": tr["metadata"]["uid"][:-4] + "pod0",
                             "creationTimestamp": tr["metadata"].get("creationTimestamp"),
                             "labels": {**tr["metadata"].get("labels", {}), "tekton.dev/taskRun": tr["metadata"]["name"]},
                             "ownerReferences": [{"apiVersion": TASK_RUN.api_version, "kind": TASK_RUN.name, "name": tr["metadata"]["name"],
                                                  "uid": tr["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]},
                "spec": {"containers": [{"name": s["container"], "image": st["image"]} for s, st in zip(steps, statuses)],
                         "restartPolicy": "Never", "serviceAccountName": "pipeline"},
                "status": {"phase": ("Failed" if failed else "Succeeded") if done else "Running", "containerStatuses": statuses}}

    # ---------- bulk ----------
    def preload(self, pipelineruns: int = 20_000, taskruns_per: int = 4, namespaces: tuple[str, ...] = ("ci", "dev", "prod"),
                finished: bool = True, seed: int = 0, customruns_every: int = 0) -> None:
        """Bulk-load finished runs (mixed outcomes); their logs and events are derived on request.

        With `customruns_every` = N, every Nth PipelineRun also ran a custom task (a CustomRun child);
        its draws use their own random stream, so the PipelineRuns and TaskRuns of a seed stay the same."""
        rng = random.Random(seed)
        custom_rng = random.Random(f"{seed}/customruns")
        custom_names = tuple(objects.CUSTOM_TASKS)
        now = self.clock()
        base = f"{seed:x}"
        chunk = 1000  # load in chunks so the dicts of one chunk are freed before the next is built
        for lo in range(0, pipelineruns, chunk):
            by_kind: dict[str, list[dict[str, Any]]] = {plural: [] for plural in KINDS}
            for i in range(lo, min(pipelineruns, lo + chunk)):
                ns = namespaces[i % len(namespaces)]
                start = now - (pipelineruns - i) * 30.0 - 600
                custom = custom_names[(i // customruns_every) % len(custom_names)] if customruns_every and i % customruns_every == 0 else None
                pr, children = objects.finished_run(rng, ns, f"pre-{base}-{i:06d}", start, max_tasks=taskruns_per,
                                                    custom=custom, custom_rng=custom_rng)
                for o in (pr, *children):
                    by_kind[BY_NAME[o["kind"]].plural].append(o)
            for plural, objs in by_kind.items():
                self.store.bulk_load(plural, objs, sort=False)
                for o in objs:
                    self._synth_events.add(o["metadata"]["uid"])
        self.store.resort()
