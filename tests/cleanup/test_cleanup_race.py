"""Randomized race: runs created, advanced, touched and deleted while the real watcher stores them.

Every delete the simulated API server performs (directly, or by garbage collection of a
PipelineRun's TaskRuns) is checked at that moment, under the server's lock, against what the
history holds: zero runs may leave the cluster whose final state was not stored.
"""

from __future__ import annotations

import random
import threading

from tekton_results_tui.settings import Settings
from tekton_results_tui.store.history import History
from tekton_results_tui.watcher.cleanup import ResultTarget, execute, plan
from tekton_results_tui.watcher.service import WatcherService

from .helpers import CLUSTER, done, running, wait_for

ROUNDS = 1000


def test_store_update_delete_race_never_deletes_an_unstored_final_state(sim, kubeconfig, db_url, history, api):
    checker = history  # one database per process; peewee gives each thread its own connection
    violations: list[str] = []
    served: list[tuple[str, bool]] = []  # (uid, direct) for every delete the server performed
    original = sim.store.delete
    depth = threading.local()

    def checked_delete(kind, ns, name, propagation="Background", preconditions=None):  # noqa: ANN001, ANN202
        with sim.store.lock:
            cur = sim.store.objs[kind].get((ns, name))
            direct = getattr(depth, "n", 0) == 0
            depth.n = getattr(depth, "n", 0) + 1
            try:
                out = original(kind, ns, name, propagation, preconditions)
            finally:
                depth.n -= 1
            if cur is not None and direct and preconditions is None:
                return out  # a test's own in-process delete (not ours): not checked
            if cur is not None:
                stored = checker.stored_versions([cur.uid], CLUSTER).get(cur.uid)
                served.append((cur.uid, direct))
                if stored is None or not stored[1]:
                    violations.append(f"{kind} {ns}/{name} rv {cur.rv} deleted; stored: {stored}")
                elif direct and stored[0] != cur.rv:
                    violations.append(f"{kind} {ns}/{name} deleted at rv {cur.rv} but rv {stored[0]} was stored")
            return out

    sim.store.delete = checked_delete  # instrumentation of the server, not a stand-in: the real delete runs

    svc = WatcherService(Settings.of(db_url="unused", kubeconfig=kubeconfig, context="sim", cluster_name=CLUSTER,
                                     annotate=False, capture_logs=False, capture_events=False,
                                     read_timeout_s=5.0, backoff_cap_s=0.5, batch_wait_s=0.02), history)
    svc.start()
    rng = random.Random(1234)
    runs: dict[str, list[str]] = {}  # live PipelineRun name -> child names
    lock = threading.Lock()
    outcomes: dict[str, int] = {}
    errors: list[BaseException] = []
    paced = threading.Semaphore(0)  # one delete round per mutation round: the two race all along

    def create(i: int) -> None:
        name = f"race-{i:04d}"
        pr = sim.create("pipelineruns", {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
                                         "metadata": {"name": name, "namespace": "ci", "labels": {"tekton.dev/pipeline": "p"}},
                                         "spec": {}, "status": running()})
        kids = []
        for k in range(rng.randint(1, 3)):
            kids.append(sim.create("taskruns", {
                "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
                "metadata": {"name": f"{name}-t{k}", "namespace": "ci",
                             "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "name": name,
                                                  "uid": pr["metadata"]["uid"], "controller": True}]},
                "spec": {}, "status": running()})["metadata"]["name"])
        sim.patch_status("pipelineruns", "ci", name, {**running(), "childReferences": [
            {"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": k} for k in kids]})
        with lock:
            runs[name] = kids

    def mutate() -> None:
        for i in range(ROUNDS):
            paced.release()
            try:
                with lock:
                    names = list(runs)
                if len(names) < 8 or rng.random() < 0.15:
                    create(i)
                    continue
                name = rng.choice(names)
                kids = runs[name]
                pr = sim.get("pipelineruns", "ci", name)
                if pr is None:  # deleted meanwhile
                    with lock:
                        runs.pop(name, None)
                    continue
                r = rng.random()
                if r < 0.35:  # a child finishes
                    k = rng.choice(kids)
                    if sim.get("taskruns", "ci", k) is not None:
                        sim.patch_status("taskruns", "ci", k, done())
                elif r < 0.6:  # the PipelineRun finishes (sometimes before all its children are stored)
                    sim.patch_status("pipelineruns", "ci", name, {**done(), "childReferences": pr["status"]["childReferences"]})
                else:  # someone touches a run after the store saw it (a label): its stored rv is stale
                    kind, obj_name = ("pipelineruns", name) if rng.random() < 0.6 else ("taskruns", rng.choice(kids))
                    obj = sim.get(kind, "ci", obj_name)
                    if obj is not None:
                        obj["metadata"].setdefault("labels", {})["touched"] = str(i)
                        try:
                            sim.update(kind, obj)
                        except Exception:  # noqa: BLE001 - deleted or changed between get and update
                            pass
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                return

    def delete() -> None:
        h = History(history.db)
        for _ in range(ROUNDS):
            paced.acquire(timeout=10)
            try:
                ids = [r.id for r in h.list_results(limit=200).items if r.in_cluster]
                if not ids:
                    continue
                targets = [ResultTarget(i) for i in rng.sample(ids, min(len(ids), rng.randint(1, 5)))]
                for o in execute(plan(h, targets, CLUSTER), api):
                    outcomes[o.result] = outcomes.get(o.result, 0) + 1
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                return

    threads = [threading.Thread(target=mutate), threading.Thread(target=delete)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        # On a loaded machine the watcher can trail the mutations so far that the racing rounds found
        # nothing stored final: let it catch up, then delete through the same checked path.
        h = History(history.db)
        for _ in range(20):
            if outcomes.get("deleted", 0) >= 20:
                break
            svc.wait_idle(10)
            ids = [r.id for r in h.list_results(limit=500).items if r.in_cluster]
            done_any = False
            for o in execute(plan(h, [ResultTarget(i) for i in ids], CLUSTER), api):
                outcomes[o.result] = outcomes.get(o.result, 0) + 1
                done_any = True
            if not done_any:
                break
        assert not violations, violations[:10]
        assert outcomes.get("deleted", 0) >= 20, outcomes  # the race did delete runs (and can fail)
        assert any(not direct for _, direct in served)  # ... and children by propagation
        # everything deleted stays in the history, marked gone by the watcher
        gone = {u for u, _ in served}
        wait_for(lambda: all(not (rec := history.get_record(uid=u)) or not rec.in_cluster for u in gone),
                 timeout=30, what="gone marks")
        assert all(history.get_record(uid=u) is not None for u in gone)
        print(f"\nrace: {ROUNDS} rounds, outcomes {outcomes}, {len(served)} deletes served "
              f"({sum(1 for _, d in served if not d)} by propagation), 0 violations")
    finally:
        sim.store.delete = original
        svc.stop(5.0)
