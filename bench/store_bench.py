#!/usr/bin/env python3
"""Store benchmark: build a 20,000 PipelineRun x 5 TaskRun history (~4 KB objects, 120k records) and time it.

Prints, each with its target and PASS/MISS:
  - import throughput (records/s) through exactly what `tekton-results-tui import FILE` runs
    (commands.import_cmd.import_file: a reader process reads the dump file, streams its List items,
    parses and classifies them, while this process writes IMPORT_BATCH runs per History.apply = one
    IMMEDIATE transaction, new/updated/unchanged counted; inside History.bulk, WAL checkpoints run on
    a second SQLite connection in a background thread) on a dump file of the generated objects, and
    the raw limit measured in the same run on the same object texts (json.loads + sqlite3 executemany
    of comparable rows into a plain table in one transaction, one thread, texts already in memory),
    and their ratio (target >= 0.5). Both lines print this process's CPU seconds and the import line
    also the reader's, so the use of the second core is visible. The dump is a one-line JSON List by
    default; --dump-format kubectl writes it indented as `kubectl get -o json` does (the import then
    re-serializes each object compactly);
  - the first page (50 newest Results), target < 20 ms;
  - ten typical filters (page of 50 + total count), target p95 < 50 ms;
  - aggregate per pipeline over 30 days, target < 300 ms.

Also: each filter's quick count (count_results with limit=QUICK_COUNT: "≥ N" past it) and, per
filter, the exact count alone, so which filters need the "≥ N quickly, exact later" path is visible;
the page + quick count's CPU time in this thread (SQLite runs in it: a figure a loaded machine moves
less than the wall clock) and the load average. --explain also prints each filter's plans (SQLite's
EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN ANALYZE) for the page and the quick count.

A dump bigger than the import's file limit (commands/limits.py) is written as several files of
whole objects and imported one after the other (as a person splitting a big dump would).

usage: bench/store_bench.py [--runs 20000] [--db URL] [--keep PATH] [--reuse PATH [--read-only]] [--seed 7]
                           [--no-raw] [--dump-format compact|kubectl] [--small-batches] [--explain]
  --small-batches  also time History.apply in watcher-sized batches of 500 (into another file) for reference
  --keep PATH  also leave the built SQLite history at PATH (the TUI benchmark reuses it)
  --db URL     build into this database instead (e.g. postgresql://postgres@127.0.0.1:5432/test?schema=bench)
  --reuse PATH time the reads against an existing history built by this benchmark (a SQLite path or a URL);
               nothing is generated or imported (an older schema is migrated first, and the time it took printed)
  --read-only  with --reuse: open the history read-only (never migrated or written; e.g. a shared copy)
  --explain    print each filter's page and quick-count plans
A history built into PostgreSQL (--db) is VACUUM ANALYZEd after the import, as autovacuum soon does after
a bulk load: the reads are timed as a settled database serves them (index-only scans need it).
  --no-raw     skip the raw-limit measurement (and so the import ratio): for building a large history once
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone

from tekton_results_tui.commands.import_cmd import IMPORT_BATCH, import_file
from tekton_results_tui.store.db import open_database, parse_db_url
from tekton_results_tui.store.history import History, RunUpsert
from tekton_results_tui.store.models import database_proxy

NOW = 1_780_000_000  # fixed "now" (2026-05-28): the history spans the 90 days before it
SPAN_DAYS = 90
TASKS_PER_RUN = 5
BATCH_RECORDS = 500
NAMESPACES = ["ci", "team-a", "team-b", "payments", "platform", "web", "data", "release"]
PIPELINES = [f"{w}-{x}" for w in ("build", "deploy", "test", "lint", "release", "nightly") for x in ("api", "web", "worker", "cli", "docs")]
TASKS = ["git-clone", "golang-build", "golang-test", "kaniko", "trivy-scan", "helm-upgrade", "npm-test", "pytest"]
OUTCOMES = [  # (weight, condition status, reason)
    (80, "True", "Succeeded"), (8, "False", "Failed"), (3, "False", "StepOOM"), (1, "False", "PodEvicted"),
    (3, "False", "PipelineRunCancelled"), (3, "False", "PipelineRunTimeout"), (2, "Unknown", "Running"),
]


def ts(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def uid(rng: random.Random) -> str:
    h = "%032x" % rng.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


SCRIPT = """#!/usr/bin/env bash
set -euo pipefail
echo "building $(params.revision) for $(params.image)"
go env -w GOFLAGS=-mod=mod
go build -trimpath -ldflags "-s -w -X main.version=$(params.revision)" -o /workspace/out/app ./cmd/app
go test ./... -count=1 -race -coverprofile=/workspace/out/cover.out
"""


DESCRIPTION = (
    "Builds the Go module from the checked-out source, runs the unit tests with the race detector and "
    "coverage, and writes the binary and the coverage profile to the output workspace. Requires a source "
    "workspace with the repository checked out at the requested revision and an output workspace the "
    "following tasks can read. Fails when the module does not build or any test fails; flaky tests are not "
    "retried here (the pipeline decides). Results: the image digest pushed by the build, used by deploy tasks."
)


def make_pipeline(i: int, rng: random.Random, runs: int = 20_000) -> list[dict]:
    """One PipelineRun and its TaskRuns as the Kubernetes API returns them (tekton.dev/v1)."""
    ns = NAMESPACES[i % len(NAMESPACES)]
    pipeline = PIPELINES[rng.randrange(len(PIPELINES))]
    created = NOW - SPAN_DAYS * 86400 + int(i * SPAN_DAYS * 86400 / runs) + rng.randrange(60)
    _, cstatus, reason = rng.choices(OUTCOMES, weights=[w for w, _, _ in OUTCOMES])[0]
    pr_uid = uid(rng)
    pr_name = f"{pipeline}-run-{i:06d}"
    rv = 1000 + i * 10
    start = created + rng.randrange(1, 5)
    dur = rng.randrange(30, 1800)
    end = start + dur if cstatus != "Unknown" else None
    labels = {"tekton.dev/pipeline": pipeline, "app.kubernetes.io/part-of": pipeline.split("-")[1],
              "team": ns, "triggers.tekton.dev/trigger": "on-push"}
    tasks = rng.sample(TASKS, TASKS_PER_RUN)
    kids = []
    t = start
    for k, task in enumerate(tasks):
        t_start = t + 1
        t_dur = max(5, dur // TASKS_PER_RUN - rng.randrange(5))
        last = k == TASKS_PER_RUN - 1
        t_cond, t_reason = ("True", "Succeeded")
        if last and cstatus != "True":
            t_cond, t_reason = (cstatus, {"PipelineRunCancelled": "TaskRunCancelled",
                                          "PipelineRunTimeout": "TaskRunTimeout"}.get(reason, reason))
        t_end = t_start + t_dur if t_cond != "Unknown" else None
        t = t_start + t_dur
        tr_name = f"{pr_name}-{task}"
        steps = [{"name": s, "image": f"gcr.io/tekton-releases/{s}:v0.{k}", "script": SCRIPT,
                  "workingDir": "/workspace/source", "env": [{"name": "HOME", "value": "/tekton/home"}]}
                 for s in ("prepare", "run")]
        kids.append({
            "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
            "metadata": {
                "name": tr_name, "namespace": ns, "uid": uid(rng), "resourceVersion": str(rv + k + 1),
                "generation": 1, "creationTimestamp": ts(t_start - 1),
                "labels": {**labels, "tekton.dev/pipelineRun": pr_name, "tekton.dev/pipelineRunUID": pr_uid,
                           "tekton.dev/pipelineTask": task, "tekton.dev/task": task, "app.kubernetes.io/managed-by": "tekton-pipelines"},
                "annotations": {"pipeline.tekton.dev/release": "v0.62.1"},
                "ownerReferences": [{"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "name": pr_name,
                                     "uid": pr_uid, "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": {"taskRef": {"name": task, "kind": "Task"}, "serviceAccountName": "pipeline", "timeout": "1h0m0s",
                     "params": [{"name": "revision", "value": "%040x" % rng.getrandbits(160)},
                                {"name": "image", "value": f"registry.example.com/{ns}/{pipeline}:{i}"}],
                     "workspaces": [{"name": "source", "persistentVolumeClaim": {"claimName": f"src-{pr_name}"}}]},
            "status": {
                "conditions": [{"type": "Succeeded", "status": t_cond, "reason": t_reason,
                                "message": "All Steps have completed executing" if t_cond == "True" else f"{t_reason}: see logs",
                                "lastTransitionTime": ts(t_end or t_start)}],
                "podName": f"{tr_name}-pod", "startTime": ts(t_start), **({"completionTime": ts(t_end)} if t_end else {}),
                "steps": [{"name": s["name"], "container": f"step-{s['name']}", "imageID": "docker-pullable://" + s["image"] + "@sha256:" + "%064x" % rng.getrandbits(256),
                           "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": ts(t_start), "finishedAt": ts(t_end or t_start)}}
                          for s in steps],
                "taskSpec": {"description": DESCRIPTION,
                             "params": [{"name": "revision", "type": "string"}, {"name": "image", "type": "string"}],
                             "steps": steps},
                "results": [{"name": "digest", "type": "string", "value": "sha256:" + "%064x" % rng.getrandbits(256)}],
                "provenance": {"featureFlags": {"enableAPIFields": "beta", "resultExtractionMethod": "termination-message"}},
            },
        })
    pr_obj = {
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"name": pr_name, "namespace": ns, "uid": pr_uid, "resourceVersion": str(rv + 9), "generation": 1,
                     "creationTimestamp": ts(created), "labels": {**labels, "tekton.dev/pipelineRun": pr_name},
                     "annotations": {"pipelinesascode.tekton.dev/sha": "%040x" % rng.getrandbits(160),
                                     "pipelinesascode.tekton.dev/branch": "main"}},
        "spec": {"pipelineRef": {"name": pipeline}, "taskRunTemplate": {"serviceAccountName": "pipeline"},
                 "timeouts": {"pipeline": "1h0m0s"},
                 "params": [{"name": "revision", "value": "%040x" % rng.getrandbits(160)},
                            {"name": "repo-url", "value": f"https://git.example.com/{ns}/{pipeline}.git"}],
                 "workspaces": [{"name": "source", "volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
                                 "resources": {"requests": {"storage": "1Gi"}}}}}]},
        "status": {
            "conditions": [{"type": "Succeeded", "status": cstatus, "reason": reason,
                            "message": f"Tasks Completed: {TASKS_PER_RUN} (Failed: 0, Cancelled 0), Skipped: 0",
                            "lastTransitionTime": ts(end or start)}],
            "startTime": ts(start), **({"completionTime": ts(end)} if end else {}),
            "childReferences": [{"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": k["metadata"]["name"],
                                 "pipelineTaskName": task} for k, task in zip(kids, tasks)],
            "pipelineSpec": {"description": DESCRIPTION, "tasks": [{"name": task, "taskRef": {"name": task, "kind": "Task"},
                                        "runAfter": [tasks[n - 1]] if n else [],
                                        "params": [{"name": "revision", "value": "$(params.revision)"}]}
                                       for n, task in enumerate(tasks)],
                             "params": [{"name": "revision", "type": "string"}, {"name": "repo-url", "type": "string"}]},
        },
    }
    return [pr_obj, *kids]


def generate(runs: int, seed: int) -> list[list[str]]:
    """Batches of ~500 object texts (JSON, as read from the API or a dump); parents before children."""
    rng = random.Random(seed)
    per = TASKS_PER_RUN + 1
    batches, cur = [], []
    for i in range(runs):
        cur.extend(json.dumps(o, separators=(",", ":")) for o in make_pipeline(i, rng, runs))
        if len(cur) + per > BATCH_RECORDS:
            batches.append(cur)
            cur = []
    if cur:
        batches.append(cur)
    return batches


PART_BYTES = 1024 * 2**20  # well under the import's per-file limit


def write_dumps(batches: list[list[str]], path: str, fmt: str) -> list[str]:
    """The objects as one dump file, or (bigger than PART_BYTES) as several, each holding whole Results."""
    parts: list[list[list[str]]] = [[]]
    size = 0
    for b in batches:
        n = sum(len(t) for t in b)
        if size + n > PART_BYTES and parts[-1]:
            parts.append([])
            size = 0
        parts[-1].append(b)
        size += n
    if len(parts) == 1:
        write_dump(batches, path, fmt)
        return [path]
    paths = []
    for k, part in enumerate(parts):
        paths.append(f"{path}.{k}")
        write_dump(part, paths[-1], fmt)
    return paths


def write_dump(batches: list[list[str]], path: str, fmt: str) -> None:
    """The objects as a `kubectl get pipelineruns,taskruns -A -o json` List (kubectl writes items before kind)."""
    with open(path, "w", encoding="utf-8") as fh:
        if fmt == "kubectl":
            items = [json.loads(t) for b in batches for t in b]
            json.dump({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}},
                      fh, indent=4, ensure_ascii=False)
            return
        fh.write('{"apiVersion":"v1","items":[')
        fh.write(",".join(t for b in batches for t in b))
        fh.write('],"kind":"List","metadata":{"resourceVersion":""}}')


def build_store(h: History, dumps: list[str]) -> tuple[float, float, float, int]:
    """Time the import command's own path on the dump files: (seconds, CPU seconds here, in the reader, runs new)."""
    gc.collect()
    c0, t0, k0 = time.process_time(), time.perf_counter(), _children_cpu()
    new = 0
    for dump in dumps:
        rep = import_file(h, dump, "")
        assert not rep.skipped, rep.skipped[:3]
        new += rep.new
    dt, cpu, kids = time.perf_counter() - t0, time.process_time() - c0, _children_cpu() - k0
    return dt, cpu, kids, new


def _children_cpu() -> float:
    """CPU seconds of this process's ended children (the import's reader process)."""
    t = os.times()
    return t.children_user + t.children_system


def build_small_batches(h: History, batches: list[list[str]]) -> float:
    """History.apply in watcher-sized batches of ~500 records (reference only: not the import path)."""
    gc.collect()
    t0 = time.perf_counter()
    for texts in batches:
        h.apply([RunUpsert(json.loads(t), raw=t) for t in texts])
    return time.perf_counter() - t0


def raw_limit(batches: list[list[str]], path: str) -> tuple[float, float]:
    """The physical limit on this machine: parse each text, insert comparable rows with plain sqlite3."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=normal")
    conn.execute("CREATE TABLE rec (id INTEGER PRIMARY KEY, uid TEXT UNIQUE, name TEXT, ns TEXT, kind TEXT, "
                 "rv INTEGER, status TEXT, reason TEXT, start TEXT, finish TEXT, pipeline TEXT, data TEXT)")
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    for texts in batches:
        rows = []
        for t in texts:
            o = json.loads(t)
            m, st = o["metadata"], o["status"]
            c = st["conditions"][0]
            rows.append((m["uid"], m["name"], m["namespace"], o["kind"], int(m["resourceVersion"]), c["status"],
                         c["reason"], st.get("startTime"), st.get("completionTime"),
                         m["labels"].get("tekton.dev/pipeline"), t))
        conn.executemany("INSERT INTO rec (uid, name, ns, kind, rv, status, reason, start, finish, pipeline, data) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.execute("COMMIT")
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    conn.close()
    return dt, cpu


def timed(fn, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def keep_history(src: str, dest: str) -> None:
    """Leave the built (closed) SQLite history at dest, its WAL folded in first so the one file holds all of it."""
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    c = sqlite3.connect(src)
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    shutil.move(src, dest)
    print(f"kept the history at {dest}")


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


FILTERS = [
    "status:failed",
    "pipeline:build-api",
    "ns:payments",
    "label:team=web",
    "since:2d",
    "dur>20m",
    "nightly",
    "ns:ci status:failed,timeout",
    "pipeline:deploy-* since:7d -status:succeeded",
    "label:app.kubernetes.io/part-of=api dur>5m status:succeeded",
]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


QUICK_COUNT = 1000  # the TUI's "≥ N" count: exact below it


def _open_reuse(path: str, read_only: bool = False):  # noqa: ANN202 - (db, History)
    url = path if "://" in path else "sqlite:///" + os.path.abspath(path)
    from tekton_results_tui.store import db as dbmod

    if read_only:
        db = open_database(url, read_only=True)
        print(f"opened read-only (schema v{dbmod.schema_version(db)})")
        return db, History(db, read_only=True, clock=lambda: NOW)

    probe = open_database(url, read_only=True)
    before = dbmod.schema_version(probe)
    probe.close()
    t0 = time.perf_counter()
    db = open_database(url)
    dt = time.perf_counter() - t0
    if before != dbmod.SCHEMA_VERSION:
        print(f"migrated the history from schema v{before} to v{dbmod.SCHEMA_VERSION} in {dt:.1f} s")
    return db, History(db, clock=lambda: NOW)


def cpu_timed(fn, reps: int) -> list[float]:  # noqa: ANN001
    """CPU milliseconds of this thread per call (the SQLite engine's work runs in it)."""
    out = []
    for _ in range(reps):
        t0 = time.thread_time()
        fn()
        out.append((time.thread_time() - t0) * 1000)
    return out


def load_average() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def explain_filters(h: History) -> None:
    """Each filter's plan for a page of 50 and for the quick count (what the TUI runs per keystroke)."""
    from tekton_results_tui.store import reads
    from tekton_results_tui.store.db import is_sqlite
    from tekton_results_tui.store.query import parse_filter

    lead = "EXPLAIN QUERY PLAN " if is_sqlite(h.db) else "EXPLAIN (ANALYZE, COSTS off) "
    for text in FILTERS:
        f = parse_filter(text, now=NOW)
        print(f"  {text}")
        for what, q in (("page", reads.results_page_query(f, "newest", None, 50, False)),
                        ("quick count", reads.bounded_count_query(f, QUICK_COUNT))):
            sql, params = q.sql()
            rows = h.db.execute_sql(lead + sql, params).fetchall()
            print(f"    {what}:")
            for r in rows:
                print("      " + (str(r[-1]) if is_sqlite(h.db) else str(r[0])))


def time_reads(h: History) -> None:
    """First page, the ten filters (page + count, then page + quick count), the aggregate."""
    results, records = h.size()
    print(f"history: {results} Results, {records} Records   ({load_average()})")
    first = timed(lambda: h.list_results(limit=50), 30)
    print(f"first page (50 newest Results): median {statistics.median(first):.2f} ms, p95 {p95(first):.2f} ms"
          f"   target < 20 ms   {verdict(p95(first) < 20)}")

    all_times: list[float] = []
    quick_times: list[float] = []
    quick_cpu: list[float] = []
    print("filters (page of 50 + total count / page of 50 + quick count ≥ 1000 / first page alone), 15 runs each:")
    for f in FILTERS:
        got: list = []

        def run(f: str = f) -> None:
            got[:] = [len(h.list_results(f, limit=50).items), h.count_results(f)]

        def quick(f: str = f) -> None:
            h.list_results(f, limit=50)
            try:
                got.append(h.count_results(f, limit=QUICK_COUNT))
            except TypeError:  # a store before the quick count (a baseline run): exact only
                got.append((h.count_results(f), True))

        ts_ = timed(run, 15)
        tq = timed(quick, 15)
        tp = timed(lambda f=f: h.list_results(f, limit=50), 15)
        cq = cpu_timed(quick, 15)
        all_times += ts_
        quick_times += tq
        quick_cpu += cq
        n, exact = got[-1]
        print(f"  {f:<58} {got[1]:>6} results   exact p95 {p95(ts_):7.2f} ms   quick p95 {p95(tq):6.2f} ms "
              f"({'' if exact else '≥ '}{n}, CPU p95 {p95(cq):5.2f} ms)   page p95 {p95(tp):6.2f} ms")
    print(f"  all filters, page + exact count p95 {p95(all_times):.2f} ms   target < 50 ms   "
          f"{verdict(p95(all_times) < 50)}")
    print(f"  all filters, page + quick count p95 {p95(quick_times):.2f} ms   target < 50 ms   "
          f"{verdict(p95(quick_times) < 50)}   (CPU in this thread p95 {p95(quick_cpu):.2f} ms; {load_average()})")

    agg_rows: list = []
    agg = timed(lambda: agg_rows.__setitem__(slice(None), h.aggregate("pipeline", "since:30d")), 5)
    print(f"aggregate per pipeline over 30 days ({len(agg_rows)} pipelines, "
          f"{sum(a.total for a in agg_rows)} Results): median {statistics.median(agg):.1f} ms, max {max(agg):.1f} ms"
          f"   target < 300 ms   {verdict(max(agg) < 300)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20_000, help="PipelineRuns to generate (each with 5 TaskRuns)")
    ap.add_argument("--db", help="build into this database URL instead of a fresh SQLite file")
    ap.add_argument("--keep", metavar="PATH", help="keep the built SQLite history at PATH")
    ap.add_argument("--reuse", metavar="PATH", help="time the reads of an existing history (SQLite path or URL)")
    ap.add_argument("--no-raw", action="store_true", help="skip the raw limit (and the import ratio)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dump-format", choices=("compact", "kubectl"), default="compact",
                    help="compact: one-line JSON List; kubectl: indented as `kubectl get -o json` writes it")
    ap.add_argument("--read-only", action="store_true", help="with --reuse: open the history read-only")
    ap.add_argument("--explain", action="store_true", help="print each filter's page and quick-count plans")
    ap.add_argument("--small-batches", action="store_true",
                    help="also time History.apply in batches of 500 (the watcher's size) for reference")
    args = ap.parse_args(argv)

    if args.reuse:
        db, h = _open_reuse(args.reuse, args.read_only)
        if args.explain:
            explain_filters(h)
        time_reads(h)
        db.close()
        return 0
    work = tempfile.mkdtemp(prefix="store-bench-")
    try:
        print(f"generating {args.runs} PipelineRuns x {TASKS_PER_RUN} TaskRuns (seed {args.seed}) ...", flush=True)
        batches = generate(args.runs, args.seed)
        texts = [t for b in batches for t in b]
        n = len(texts)
        avg = sum(len(t) for t in texts) / n
        print(f"  {n} objects, {len(batches)} batches, average object {avg / 1024:.1f} KiB")
        del texts
        dumps = write_dumps(batches, os.path.join(work, "dump.json"), args.dump_format)
        print(f"  dump ({args.dump_format} JSON List): {sum(os.path.getsize(d) for d in dumps) / 2**20:.0f} MiB "
              f"in {len(dumps)} file(s)", flush=True)

        raw_rate = None
        if not args.no_raw:
            raw_s, raw_cpu = raw_limit(batches, os.path.join(work, "raw.db"))
            raw_rate = n / raw_s
            os.remove(os.path.join(work, "raw.db"))
            print(f"raw limit (json.loads + sqlite3 executemany, one txn): {raw_rate:,.0f} records/s ({raw_s:.1f} s, "
                  f"CPU {raw_cpu:.1f} s)", flush=True)

        if args.db:
            url = args.db
            if parse_db_url(url).engine == "sqlite" and os.path.exists(parse_db_url(url).path or ""):
                print(f"refusing to build into an existing file: {url}", file=sys.stderr)
                return 2
        else:
            url = "sqlite:///" + os.path.join(work, "history.db")
        db = open_database(url)
        h = History(db, clock=lambda: NOW)
        store_s, store_cpu, reader_cpu, new = build_store(h, dumps)
        rate = n / store_s
        results, records = h.size()
        assert records == n == new, (records, n, new)
        print(f"store import via the `tekton-results-tui import` path (import_cmd.import_file: a reader process "
              f"parses and classifies the dump while this one writes {IMPORT_BATCH:,} runs per History.apply/"
              f"transaction, background checkpoints): {rate:,.0f} records/s ({store_s:.1f} s, CPU {store_cpu:.1f} s "
              f"here + {reader_cpu:.1f} s in the reader); {results} Results, {records} Records")
        if raw_rate is not None:
            ratio = rate / raw_rate
            print(f"  ratio to raw limit: {ratio:.2f}   target >= 0.50   {verdict(ratio >= 0.5)}")
        if args.small_batches:
            sdb_path = os.path.join(work, "small.db")
            sdb = open_database("sqlite:///" + sdb_path)
            small_s = build_small_batches(History(sdb, clock=lambda: NOW), batches)
            sdb.close()
            database_proxy.initialize(db)  # rebind the models to the main history
            os.remove(sdb_path)
            msg = f", ratio {n / small_s / raw_rate:.2f}" if raw_rate else ""
            print(f"  reference: History.apply in watcher-sized batches ({BATCH_RECORDS}/apply, texts in memory): "
                  f"{n / small_s:,.0f} records/s{msg}")
        del batches
        for d in dumps:
            os.remove(d)
        gc.collect()
        h.optimize()  # statistics for the planner (also done by apply every OPTIMIZE_EVERY rows)
        if parse_db_url(url).engine != "sqlite":
            t0 = time.perf_counter()
            db.execute_sql("VACUUM (ANALYZE) result, record, label, run_stat")  # what autovacuum soon does
            print(f"  VACUUM ANALYZE after the load (autovacuum's job): {time.perf_counter() - t0:.1f} s")
        if args.explain:
            explain_filters(h)
        if parse_db_url(url).engine == "sqlite":
            print(f"  database file: {os.path.getsize(parse_db_url(url).path or '') / 2**20:.0f} MiB")
        time_reads(h)
        db.close()
        if args.keep and not args.db:
            keep_history(os.path.join(work, "history.db"), args.keep)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
