"""A writer or reader process for the multi-process SQLite test; prints its counts as one JSON line.

usage: concurrency_worker.py writer|reader URL SECONDS WRITER_ID
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from store_objects import pr, tr  # noqa: E402

import tekton_results_tui.store.history as history_mod  # noqa: E402
from tekton_results_tui.store.db import open_database  # noqa: E402
from tekton_results_tui.store.history import History, RunUpsert  # noqa: E402

# Statistics refreshes (PRAGMA optimize) normally run every 50k changed rows; here every few
# hundred, so the 30 s run exercises them against the other writer too (one once raced to "locked").
history_mod.OPTIMIZE_EVERY = 300

HOT_UID = "00000000-0000-0000-0000-00000000a0a0"  # one PipelineRun both writers keep updating


def _classify_error(exc: BaseException, counts: dict) -> None:
    text = str(exc)
    if "locked" in text or "busy" in text:
        counts["locked"] += 1
    else:
        counts["errors"].append(f"{type(exc).__name__}: {text[:200]}")


def writer(url: str, seconds: float, wid: int) -> dict:
    h = History(open_database(url))
    counts = {"batches": 0, "runs": 0, "locked": 0, "errors": [], "hot_rv": 0, "seq_regressions": 0}
    deadline = time.monotonic() + seconds
    i = 0
    last_seq = 0
    while time.monotonic() < deadline:
        i += 1
        p = pr(f"w{wid}-{i}", uid=f"{wid:08d}-0000-4000-8000-{i:012d}", rv=1, pipeline=f"pipe-{wid}")
        kids = [tr(f"w{wid}-{i}-t{k}", p, uid=f"{wid:08d}-{k + 1:04d}-4000-8000-{i:012d}", rv=2 + k) for k in range(3)]
        hot_rv = 2 * i + wid  # the two writers never use the same resourceVersion
        hot = pr("hot", uid=HOT_UID, rv=hot_rv, annotations={"writer": str(wid)})
        try:
            res = h.apply([RunUpsert(p), *(RunUpsert(k) for k in kids), RunUpsert(hot)])
        except Exception as exc:  # noqa: BLE001 - counted and reported to the test
            _classify_error(exc, counts)
            continue
        counts["batches"] += 1
        counts["runs"] += 1
        counts["hot_rv"] = hot_rv
        if res.seq <= last_seq:
            counts["seq_regressions"] += 1
        last_seq = res.seq
    return counts


def reader(url: str, seconds: float) -> dict:
    h = History(open_database(url, read_only=True), read_only=True)
    counts = {"reads": 0, "locked": 0, "errors": [], "seq_regressions": 0, "max_seen": 0, "changes": 0}
    deadline = time.monotonic() + seconds
    seq = 0
    while time.monotonic() < deadline:
        try:
            page = h.list_results("pipeline:pipe-*", limit=50)
            if page.next_token:
                h.list_results("pipeline:pipe-*", page_token=page.next_token, limit=50)
            h.count_results("status:succeeded")
            cs = h.changes_since(seq, limit=2000)
            if cs.seq < seq:
                counts["seq_regressions"] += 1
            counts["changes"] += len(cs.results) + len(cs.records)
            seq = cs.seq
            counts["max_seen"] = max(counts["max_seen"], h.size()[0])
        except Exception as exc:  # noqa: BLE001
            _classify_error(exc, counts)
            continue
        counts["reads"] += 1
    return counts


if __name__ == "__main__":
    role, url, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
    out = writer(url, secs, int(sys.argv[4])) if role == "writer" else reader(url, secs)
    print(json.dumps(out))
