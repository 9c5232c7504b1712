#!/usr/bin/env python3
"""Log search benchmark: a history holding N stored step-log lines (default 5 million, ~100 bytes each),
then searches of every stored log.

Builds PipelineRuns of 5 TaskRuns x 2 steps (bench/store_bench.make_pipeline, 90 days of runs) whose
step logs are realistic build output (timestamps, go/npm/maven/docker lines, ~1/7 coloured with SGR,
file paths); a rare word sits on one line in ~25 step logs, a common word ("Downloading") on ~15 % of
lines. Logs are stored through History.apply (as the watcher stores them: the index is written in the
same transaction), 20 PipelineRuns per apply.

Prints, each with its target and PASS/MISS:
  - store throughput with the index (lines/s, MB/s) and, measured in the same run, the index build alone
    (the backfill over the stored logs after the index is emptied: reindex-logs' throughput);
  - index size on disk against the log text size (and against the compressed stored logs);
  - first page (50 hits) p95 of 20: a rare word (< 200 ms), a common word (< 300 ms), a common word with a
    filter `status:failed pipeline:build-*` (< 300 ms), a rare word with a filter (< 300 ms), a phrase;
  - raw baselines on the same text: `grep -c` of the words over the text exported to a file, and a
    LIKE scan of the index's own text table (what a search would cost without trigrams).

SQLite into --dir (default /work/bench-data/logsearch, never the repository); PostgreSQL into its own
schema, dropped at the end. usage:
  bench/logsearch_bench.py [--lines 5000000] [--engine sqlite|postgresql|both] [--pg URL] [--pg-schema S]
                           [--reuse] [--no-rebuild]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from store_bench import NOW, make_pipeline, p95, timed, verdict  # noqa: E402

from tekton_results_tui.store.db import open_database  # noqa: E402
from tekton_results_tui.store.history import History, Logs, RunUpsert, StepLogData  # noqa: E402

RARE = "zqxjunicornfault"
COMMON = "Downloading"
PHRASE = '"connection reset by peer"'
FLT = "status:failed pipeline:build-*"
LINES_PER_STEP = 250
PRS_PER_APPLY = 20
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
REPS = 20  # timings of each search (p50, p95)

_PKGS = ["github.com/spf13/cobra", "golang.org/x/net", "k8s.io/client-go", "github.com/tektoncd/pipeline",
         "go.uber.org/zap", "github.com/google/go-cmp", "sigs.k8s.io/yaml", "github.com/prometheus/client_golang"]
_NPM = ["react", "lodash", "webpack", "typescript", "eslint", "jest", "babel-loader", "express"]
_FILES = ["cmd/app/main.go", "pkg/api/server.go", "pkg/store/db.go", "internal/auth/token.go", "src/index.ts",
          "src/components/App.tsx", "tests/test_api.py", "pom.xml"]


def _line(rng: random.Random, t: int, n: int) -> str:
    ts = f"2026-05-{1 + t % 28:02d}T{(t // 3600) % 24:02d}:{(t // 60) % 60:02d}:{t % 60:02d}.{n % 1000:03d}Z"
    r = rng.random()
    if r < 0.15:
        s = f"{COMMON} {rng.choice(_PKGS)} v0.{rng.randrange(40)}.{rng.randrange(12)}"
    elif r < 0.30:
        s = f"go: finding module for package {rng.choice(_PKGS)}/{rng.choice(['util', 'client', 'v2', 'internal'])}"
    elif r < 0.42:
        s = f"npm WARN deprecated {rng.choice(_NPM)}@{rng.randrange(1, 9)}.{rng.randrange(20)}.0: this version is no longer supported"
    elif r < 0.55:
        s = (f"Step {rng.randrange(1, 20)}/{rng.randrange(20, 40)} : RUN make -j{rng.randrange(2, 9)} "
             f"build TARGET={rng.choice(['linux/amd64', 'linux/arm64'])}")
    elif r < 0.66:
        s = f"=== RUN   Test{rng.choice(['Server', 'Store', 'Auth', 'Parse', 'Render'])}_{rng.randrange(1000)}"
    elif r < 0.76:
        s = f"--- PASS: Test{rng.choice(['Server', 'Store', 'Auth'])}_{rng.randrange(1000)} ({rng.random():.2f}s)"
    elif r < 0.84:
        s = f"{rng.choice(_FILES)}:{rng.randrange(1, 900)}:{rng.randrange(1, 80)}: warning: unused variable 'x{rng.randrange(99)}'"
    elif r < 0.90:
        s = f"[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/apache/{rng.choice(_NPM)}.jar ({rng.randrange(1, 900)} kB)"
    elif r < 0.93:
        s = f"error: read tcp 10.0.{rng.randrange(255)}.{rng.randrange(255)}:443: connection reset by peer"
    else:
        s = f"sha256:{rng.getrandbits(256):064x} pushed {rng.randrange(1, 500)} MB layer"
    if n % 7 == 0:
        s = f"\x1b[{rng.choice([31, 32, 33, 36])}m{s}\x1b[0m"
    return ts + " " + s


def step_text(rng: random.Random, t: int, rare: bool) -> bytes:
    lines = [_line(rng, t + i, i) for i in range(LINES_PER_STEP)]
    if rare:
        lines[rng.randrange(LINES_PER_STEP)] += f" panic: {RARE} in worker"
    return ("\n".join(lines) + "\n").encode()


def build(h: History, total_lines: int, export: str) -> tuple[float, int, int]:
    """Store the history; (seconds, text bytes, compressed bytes). The plain text also goes to `export`."""
    rng = random.Random(7)
    steps_total = total_lines // LINES_PER_STEP
    prs = max(1, steps_total // 10)
    rare_every = max(1, steps_total // 25)
    text_bytes = comp = 0
    step_no = 0
    t_store = 0.0
    with open(export, "wb") as out, h.bulk():
        batch: list = []
        for i in range(prs):
            objs = make_pipeline(i, rng, prs)
            batch.append(RunUpsert(objs[0]))
            for tr in objs[1:]:
                batch.append(RunUpsert(tr))
                steps = []
                for s in ("prepare", "run"):
                    step_no += 1
                    text = step_text(rng, i * 600, step_no % rare_every == 0)
                    text_bytes += len(text)
                    out.write(text)
                    steps.append(StepLogData(s, f"step-{s}", text))
                batch.append(Logs(tr, steps))
            if (i + 1) % PRS_PER_APPLY == 0 or i == prs - 1:
                t0 = time.perf_counter()
                h.apply(batch)
                t_store += time.perf_counter() - t0
                comp += sum(len(zlib.compress(s.text, 6)) for c in batch if isinstance(c, Logs) for s in c.steps)
                batch = []
            if i and i % 200 == 0:
                print(f"  ... {i}/{prs} PipelineRuns, {step_no * LINES_PER_STEP:,} lines, {t_store:.0f} s storing",
                      file=sys.stderr, flush=True)
    h.optimize()
    return t_store, text_bytes, comp


def rebuild_index(h: History) -> float:
    """Empty the index and build it again with the backfill (reindex-logs); seconds."""
    from tekton_results_tui.store import log_index as li

    li.empty_index(h.db)
    t0 = time.perf_counter()
    while h.reindex_logs_batch() is not None:
        pass
    return time.perf_counter() - t0


def searches(h: History, engine: str) -> None:
    cases = [("rare word", RARE, "", 200), ("common word", COMMON, "", 300), ("common word + filter", COMMON, FLT, 300),
             ("rare word + filter", RARE, FLT, 300), ("phrase", PHRASE, "", 300), ("phrase + since:7d", PHRASE, "since:7d", 300)]
    for label, q, flt, target in cases:
        page = h.search_logs(q, flt, limit=50)
        xs = timed(lambda: h.search_logs(q, flt, limit=50), REPS)
        ok = p95(xs) < target
        print(f"{engine:10} first page, {label:22}: {len(page.hits):3} hits, p50 {statistics.median(xs):7.1f} ms, "
              f"p95 {p95(xs):7.1f} ms (target < {target} ms) {verdict(ok)}")
    import tracemalloc

    for label, q, flt in (("rare word + filter", RARE, FLT), ("common word", COMMON, "")):
        tracemalloc.start()
        h.search_logs(q, flt, limit=50, context=3)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{engine:10} memory of a page of hits with 3 lines of context, {label}: peak {peak / 1e6:.1f} MB (Python heap)")
    # the second page of the common word (keyset)
    page = h.search_logs(COMMON, "", limit=50)
    xs = timed(lambda: h.search_logs(COMMON, "", page_token=page.next_token, limit=50), REPS)
    print(f"{engine:10} second page, common word      : p95 {p95(xs):7.1f} ms")


def raw_baselines(h: History, export: str, engine: str) -> None:
    for word in (RARE, COMMON):
        t0 = time.perf_counter()
        n = subprocess.run(["grep", "-c", "-F", word, export], capture_output=True, text=True).stdout.strip()
        print(f"{engine:10} raw: grep -c -F {word!r} over the exported text: {n} lines in "
              f"{(time.perf_counter() - t0) * 1000:.0f} ms")
    from tekton_results_tui.store import log_index as li
    from tekton_results_tui.store.db import is_sqlite

    table = f"{li.FTS}_content" if is_sqlite(h.db) else li.BLOCK_TABLE
    col = "c0" if is_sqlite(h.db) else "body"
    op = "LIKE"  # PostgreSQL's blocks are stored folded
    t0 = time.perf_counter()
    with h.db.atomic():
        if not is_sqlite(h.db):  # the scan itself, not the trigram index
            h.db.execute_sql("SET LOCAL enable_bitmapscan = off")
            h.db.execute_sql("SET LOCAL enable_indexscan = off")
        n = h.db.execute_sql(f'SELECT COUNT(*) FROM "{table}" WHERE {col} {op} %s'.replace("%s", h.db.param),
                             ("%" + (RARE if is_sqlite(h.db) else RARE.lower()) + "%",)).fetchone()[0]
    print(f"{engine:10} raw: {op} scan of the indexed text without the trigram index ({RARE!r}): {n} blocks in "
          f"{(time.perf_counter() - t0) * 1000:.0f} ms")


def run_engine(engine: str, url: str, lines: int, workdir: str, reuse: bool, rebuild: bool) -> None:
    export = os.path.join(workdir, f"logs-{engine}.txt")
    db = open_database(url)
    h = History(db, clock=lambda: NOW)
    if not reuse:
        print(f"{engine}: storing {lines:,} log lines ...", file=sys.stderr, flush=True)
        secs, text_bytes, comp = build(h, lines, export)
        print(f"{engine:10} stored {lines:,} lines ({text_bytes / 1e6:.0f} MB of text, {comp / 1e6:.0f} MB compressed) "
              f"with the index in {secs:.0f} s: {lines / secs:,.0f} lines/s, {text_bytes / 1e6 / secs:.1f} MB/s")
    else:
        text_bytes = os.path.getsize(export)
        comp = 0
    size = h.log_index_bytes()
    if size is not None:
        print(f"{engine:10} index size {size / 1e6:.0f} MB = {size / text_bytes:.2f} x the log text ({text_bytes / 1e6:.0f} MB)"
              + (f", {size / comp:.1f} x the stored compressed logs" if comp else ""))
    searches(h, engine)
    raw_baselines(h, export, engine)
    if rebuild:
        secs = rebuild_index(h)
        print(f"{engine:10} index build alone (backfill over stored logs): {secs:.0f} s, {lines / secs:,.0f} lines/s, "
              f"{text_bytes / 1e6 / secs:.1f} MB/s")
    db.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--dir", default="/work/bench-data/logsearch")
    ap.add_argument("--pg", default=PG_DEFAULT)
    ap.add_argument("--pg-schema", default="logsearch_bench", help="the PostgreSQL schema to build in (dropped at the end)")
    ap.add_argument("--reuse", action="store_true",
                    help="time an existing history built by this benchmark (SQLite in --dir; PostgreSQL in --pg-schema, "
                    "dropped at the end)")
    ap.add_argument("--no-rebuild", action="store_true", help="skip timing the index build alone")
    a = ap.parse_args(argv)
    os.makedirs(a.dir, exist_ok=True)
    if a.engine in ("sqlite", "both"):
        path = os.path.join(a.dir, "history.db")
        if not a.reuse:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
        run_engine("sqlite", "sqlite:///" + path, a.lines, a.dir, a.reuse, not a.no_rebuild)
    if a.engine in ("postgresql", "both"):
        schema = a.pg_schema
        url = f"{a.pg}{'&' if '?' in a.pg else '?'}schema={schema}"
        try:
            if not a.reuse:
                _drop_pg_schema(a.pg, schema)
            run_engine("postgresql", url, a.lines, a.dir, a.reuse, not a.no_rebuild)
        finally:
            _drop_pg_schema(a.pg, schema)
    shutil.rmtree(os.path.join(a.dir, "unused"), ignore_errors=True)
    return 0


def _drop_pg_schema(base: str, schema: str) -> None:
    import psycopg2

    conn = psycopg2.connect(base, connect_timeout=5)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    conn.close()


if __name__ == "__main__":
    sys.exit(main())
