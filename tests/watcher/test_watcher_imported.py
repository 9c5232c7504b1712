"""Runs imported from a dump say "imported, not seen in a cluster" until the real watcher, over real HTTP,
lists the cluster they came from: its first list writes them at the very resourceVersion the dump held
(nothing newer to store), and that alone must clear the mark. Runs that are only in the dump keep it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tekton_results_tui.sim import SimCluster
from tekton_results_tui.watcher.status import LIVE

from .helpers import pr, wait_for

CLUSTER = "sim"


def test_a_watcher_list_clears_the_imported_mark_of_the_runs_it_sees(sim: SimCluster, make_service, history,
                                                                      db_path: Path, tmp_path: Path) -> None:
    sim.preload(pipelineruns=3, taskruns_per=2, seed=5)
    live = sim.list_objects("pipelineruns") + sim.list_objects("taskruns")
    only_in_dump = pr("from-another-day")
    only_in_dump["metadata"].update(uid="0000-only-in-dump", resourceVersion="7", creationTimestamp="2025-01-02T03:04:05Z")
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": live + [only_in_dump]}))
    r = subprocess.run([sys.executable, "-m", "tekton_results_tui", "import", "--db", f"sqlite:///{db_path}",
                        "--cluster-name", CLUSTER, str(dump)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr  # the command itself, in its own process like a user's

    def marked(uid: str) -> bool:
        rec = history.get_record(uid=uid)
        return rec is not None and history.imported_at(rec.id) is not None

    uids = [o["metadata"]["uid"] for o in live]
    assert all(marked(u) for u in uids) and marked("0000-only-in-dump")
    # annotate=False: the watcher's own annotation patches make newer versions, which would be stored (and
    # clear the marks) on their own; this is about the list's versions, equal to the dump's, clearing them
    svc = make_service(cluster_name=CLUSTER, capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    wait_for(lambda: svc.status().state == LIVE and not any(marked(u) for u in uids),
             what="the watcher's first list to clear the imported marks")
    for u in uids:  # the list stored nothing newer: the same versions, now seen
        assert history.get_record(uid=u).rv == int(next(o for o in live if o["metadata"]["uid"] == u)
                                                   ["metadata"]["resourceVersion"])
    assert marked("0000-only-in-dump")  # never in this cluster: still says so (gone or not)
