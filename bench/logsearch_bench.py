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
    LIKE scan of the index's own text table (what a search would cost without trigrams);
  - with --tui-memory (SQLite, on the history built before: add --reuse): the memory of the REAL app while
    browsing hits (< 200 MB), in a child process, headless (App.run_test) beside an EMPTY Textual app
    measured in the same run: open Search logs, search the common word, fetch page after page (--tui-hits,
    2,000 by default) scrolling through them, open the Logs tab at a late hit, go back to Search logs and
    search again; RSS sampled after each step (peak: the largest sample and the kernel's VmHWM), and after.

SQLite into --dir (default /work/bench-data/logsearch, never the repository); PostgreSQL into its own
schema, dropped at the end. usage:
  bench/logsearch_bench.py [--lines 5000000] [--engine sqlite|postgresql|both] [--pg URL] [--pg-schema S]
                           [--reuse] [--no-rebuild] [--tui-memory [--tui-hits 2000]]
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


# --- memory of the TUI while browsing hits (children: one process each) ---------------------------


def _rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _child_empty() -> dict:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Static

    class Empty(App):
        def compose(self) -> ComposeResult:
            yield Static("empty")
            yield Footer()

    async with Empty().run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        return {"rss_mb": _rss_mb(), "hwm_mb": _rss_mb("VmHWM")}


async def _until(pred, what: str, timeout: float = 120.0) -> None:  # noqa: ANN001
    import asyncio

    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def _child_browse(path: str, want_hits: int) -> dict:
    """The real app on the history: Search logs, the common word, pages of hits scrolled through, the Logs tab
    at a late hit, back to Search logs and a search again. RSS after each step."""
    import gc

    from tekton_results_tui.store.db import open_database as open_db
    from tekton_results_tui.tui.app import ResultsApp
    from tekton_results_tui.tui.screens.log_search import LogSearchScreen
    from tekton_results_tui.tui.widgets.log_view import LogView

    db = open_db("sqlite:///" + path, read_only=True)
    app = ResultsApp(History(db, read_only=True), read_only=True, live=False)
    out: dict = {"samples": []}

    def sample(what: str) -> None:
        out["samples"].append((what, round(_rss_mb(), 1)))

    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await app.settle_reads()
        await pilot.pause()
        sample("first page of runs")

        async def search(word: str, pages: int | None) -> LogSearchScreen:
            await pilot.press("G")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, LogSearchScreen)
            n = screen.searches
            await pilot.press(*word, "enter")
            await _until(lambda: screen.searches > n and not screen.searching, "the first page of hits")
            await pilot.pause()
            sample(f"first page of hits ({len(screen.hits)})")
            screen.option_list.focus()
            t0 = time.perf_counter()
            while screen.next_token and (len(screen.hits) < want_hits if pages is None else pages > 0):
                n = screen.searches
                screen.action_more()
                await _until(lambda: screen.searches > n and not screen.searching, "the next page of hits")
                await pilot.press("pagedown", "pagedown", "pagedown")  # scroll through what arrived
                await pilot.pause()
                if pages is not None:
                    pages -= 1
                if len(screen.hits) % 500 == 0:
                    sample(f"{len(screen.hits)} hits")
            out.setdefault("paging_s", time.perf_counter() - t0)
            await pilot.press("end")
            await pilot.pause()
            sample(f"{len(screen.hits)} hits, scrolled to the end")
            return screen

        screen = await search(COMMON, None)
        out["hits"] = len(screen.hits)
        out["options"] = screen.option_list.option_count
        # the Logs tab at a late hit
        ol = screen.option_list
        target = f"hit-{len(screen.hits) - 3}"
        ol.highlighted = next(k for k in range(ol.option_count) if ol.get_option_at_index(k).id == target)
        hit = screen.hits[len(screen.hits) - 3]
        screen.action_open_hit()
        await _until(lambda: not isinstance(app.screen, LogSearchScreen), "the Logs tab")
        logs = app.detail.query_one(LogView)
        await _until(lambda: logs.lines_view.current_match_line == hit.line - 1, "the hit revealed in the Logs tab")
        await pilot.pause()
        sample("Logs tab at a hit")
        # back to Search logs: a new search, a few pages
        screen = await search(COMMON, 5)
        sample("back in Search logs, 5 pages")
        await pilot.press("escape")
        await pilot.pause()
        gc.collect()
        sample("after (screen closed)")
    out["peak_sampled_mb"] = max(v for _, v in out["samples"])
    out["hwm_mb"] = _rss_mb("VmHWM")
    out["after_mb"] = out["samples"][-1][1]
    db.close()
    return out


def _run_child(args: list[str]) -> dict:
    import json

    p = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", *args], capture_output=True, text=True,
                       timeout=1800)
    if p.returncode != 0:
        raise SystemExit(f"child {args} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def tui_memory(path: str, hits: int) -> None:
    if not os.path.exists(path):
        raise SystemExit(f"{path}: no history; build it first (this benchmark without --tui-memory)")
    empty = _run_child(["empty"])
    got = _run_child(["browse", path, str(hits)])
    load = os.getloadavg()
    print(f"TUI memory on {path} ({os.path.getsize(path) / 1e6:,.0f} MB), load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    for what, mb in got["samples"]:
        print(f"  RSS {mb:7.1f} MB  {what}")
    peak = max(got["peak_sampled_mb"], got["hwm_mb"])
    print(f"sqlite     TUI browsing {got['hits']:,} hits of {COMMON!r} ({got['options']:,} list lines, "
          f"{got['paging_s']:.1f} s paging): peak RSS {peak:.0f} MB (VmHWM {got['hwm_mb']:.0f}), after "
          f"{got['after_mb']:.0f} MB; empty Textual app {empty['rss_mb']:.0f} MB (+{peak - empty['rss_mb']:.0f} MB) "
          f"(target < 200 MB) {verdict(peak < 200)}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        import asyncio
        import json

        mode, rest = argv[1], argv[2:]
        res = asyncio.run(_child_empty() if mode == "empty" else _child_browse(rest[0], int(rest[1])))
        print(json.dumps(res))
        return 0
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
    ap.add_argument("--tui-memory", action="store_true",
                    help="only the memory of the TUI browsing hits, on the SQLite history in --dir (built before)")
    ap.add_argument("--tui-hits", type=int, default=2000, help="with --tui-memory: hits to page through")
    a = ap.parse_args(argv)
    os.makedirs(a.dir, exist_ok=True)
    if a.tui_memory:
        tui_memory(os.path.join(a.dir, "history.db"), a.tui_hits)
        return 0
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
