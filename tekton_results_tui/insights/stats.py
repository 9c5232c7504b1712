"""Statistics over any filter, grouped by pipeline, task, namespace, repository, cluster, day or week.

What a group counts: `--by task` counts TaskRuns (the filter applies to them); every other key counts
top-level runs (one per Result, the filter applies to Results). Per group: runs by status; the
success rate over finished runs (succeeded / (succeeded + failed + timed out + cancelled)); the
p50/p95/max duration of finished runs; the p50/p95 queue time (creation -> start) of started runs;
the newest start and that run's status; flaky runs and their rate over finished runs. For `--by
pipeline`, also each pipeline's slowest task (highest p95 duration) and the task that fails most.
`day` and `week` group by creation time in UTC (weeks start on Monday).
Percentiles follow insights/percentiles.py (percentile_cont) on every engine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from tekton_results_tui.errors import UsageError
from tekton_results_tui.insights import flaky as fl
from tekton_results_tui.insights.percentiles import from_ranks
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store import insights_reads as reads
from tekton_results_tui.store.history import History
from tekton_results_tui.store.query import parse_filter

GROUP_KEYS = reads.GROUP_KEYS
DEFAULT_SINCE = 30 * 86400


class UnknownGroupKey(UsageError):
    """`--by` names no grouping; the message lists the choices."""

    def __init__(self, by: str) -> None:
        super().__init__(f"unknown --by {by!r}: choose one of {', '.join(GROUP_KEYS)}")


@dataclass
class GroupStats:
    key: str
    total: int
    succeeded: int
    failed: int
    cancelled: int
    timeout: int
    running: int
    success_rate: float | None
    p50_seconds: float | None
    p95_seconds: float | None
    max_seconds: int | None
    queue_p50_seconds: float | None
    queue_p95_seconds: float | None
    last_start_time: str | None
    last_status: str | None
    flaky: int
    flaky_rate: float | None
    slowest_task: dict[str, Any] | None = None  # --by pipeline: {"name", "p95_seconds"}
    most_failing_task: dict[str, Any] | None = None  # --by pipeline: {"name", "failed"}

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed + self.cancelled + self.timeout


@dataclass
class Stats:
    by: str
    groups: list[GroupStats]

    def document(self) -> dict[str, Any]:
        """The `-o json|yaml` shape: {"by": KEY, "groups": [...]}; pipeline-only keys only for `--by pipeline`."""
        groups = []
        for gs in self.groups:
            d = asdict(gs)
            if self.by != "pipeline":
                d.pop("slowest_task")
                d.pop("most_failing_task")
            groups.append(d)
        return {"by": self.by, "groups": groups}


def key_label(by: str, key: Any) -> str:
    """A group key as people read it: a UTC date for days, an ISO week for weeks."""
    if key is None:
        return reads.NONE_KEY
    if by == "day":
        return datetime.fromtimestamp(int(key) * 86400, tz=timezone.utc).strftime("%Y-%m-%d")
    if by == "week":
        y, w, _ = datetime.fromtimestamp(reads.week_start(int(key)), tz=timezone.utc).isocalendar()
        return f"{y}-W{w:02d}"
    return str(key)


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def statistics(h: History, flt: str | None = None, by: str = "pipeline", since: float | None = DEFAULT_SINCE,
               revision_key: str | None = None) -> Stats:
    """Statistics of the runs `flt` selects (created in the last `since` seconds; None = all), by `by`.

    Raises UnknownGroupKey for a bad `by` and FilterError for a bad filter.
    """
    if by not in GROUP_KEYS:
        raise UnknownGroupKey(by)
    now = h.clock()
    bound = int(now - since) if since is not None else None
    text = (flt or "").strip()
    if bound is not None:
        text = f"{text} since:{int(since or 0)}s".strip()
    f = parse_filter(text, now=now)
    r = reads.stats_reads(h.db, by, f)
    evidence = reads.flaky_evidence(h.db, by, f, bound, revision_key)
    flagged = fl.find_flaky(fl.RunOutcome(e.id, e.identity, e.revision, e.status, e.retries, e.name) for e in evidence)
    flaky_per_key: dict[Any, int] = {}
    for e in evidence:
        if e.in_scope and e.id in flagged:
            flaky_per_key[e.key] = flaky_per_key.get(e.key, 0) + 1

    extremes = _task_extremes(r) if by == "pipeline" else {}
    groups = []
    for c in r.counts:
        d = r.durations.get(c.key)
        q = r.queues.get(c.key)
        finished = c.succeeded + c.failed + c.cancelled + c.timeout
        n_flaky = flaky_per_key.get(c.key, 0)
        gs = GroupStats(
            key=key_label(by, c.key), total=c.total, succeeded=c.succeeded, failed=c.failed, cancelled=c.cancelled,
            timeout=c.timeout, running=c.running, success_rate=_rate(c.succeeded, finished),
            p50_seconds=from_ranks(d.n, d.at, 50) if d else None, p95_seconds=from_ranks(d.n, d.at, 95) if d else None,
            max_seconds=d.at[d.n - 1] if d else None,
            queue_p50_seconds=from_ranks(q.n, q.at, 50) if q else None,
            queue_p95_seconds=from_ranks(q.n, q.at, 95) if q else None,
            last_start_time=g.format_time(c.last_start), last_status=c.last_status,
            flaky=n_flaky, flaky_rate=_rate(n_flaky, finished),
        )
        if by == "pipeline":
            gs.slowest_task, gs.most_failing_task = extremes.get(c.key, (None, None))
        groups.append(gs)
    groups.sort(key=lambda x: (-x.total, x.key) if by not in ("day", "week") else (x.key,))
    return Stats(by, groups)


def _task_extremes(r: reads.StatsReads) -> dict[Any, tuple[dict | None, dict | None]]:
    """Per pipeline key: its slowest task (highest p95) and the task that failed most, in one pass over the
    (pipeline, task) entries. Highest first; on a tie the name that sorts first, so the answer is stable."""
    slow: dict[Any, tuple[float, str]] = {}
    for (k, t), v in r.task_p95.items():
        p95 = from_ranks(v.n, v.at, 95) or 0.0
        cur = slow.get(k)
        if cur is None or (-p95, t) < (-cur[0], cur[1]):
            slow[k] = (p95, t)
    fails: dict[Any, tuple[int, str]] = {}
    for (k, t), n in r.task_failed.items():
        cur = fails.get(k)
        if n > 0 and (cur is None or (-n, t) < (-cur[0], cur[1])):
            fails[k] = (n, t)
    out: dict[Any, tuple[dict | None, dict | None]] = {}
    for k in slow.keys() | fails.keys():
        s, f = slow.get(k), fails.get(k)
        out[k] = ({"name": s[1], "p95_seconds": s[0]} if s else None, {"name": f[1], "failed": f[0]} if f else None)
    return out


def parse_since(text: str | None) -> float | None:
    """`--since 30d` -> seconds; `all` (or 0) -> None (the whole history)."""
    if text is None:
        return DEFAULT_SINCE
    if text.strip().lower() in ("all", "0", "0s"):
        return None
    from tekton_results_tui.store.query import parse_duration

    try:
        return parse_duration(text)
    except ValueError:
        raise UsageError(f"--since {text[:40]!r}: expected a duration like 7d, 30d, 12h, or 'all'") from None


# --- trends ----------------------------------------------------------------------------------------

SPARKS = "▁▂▃▄▅▆▇█"


@dataclass
class Trend:
    """One group's days over the window (UTC, oldest first): runs created and the p50 duration of finished ones."""

    days: list[str]
    runs: list[int]
    p50_seconds: list[float | None]


def trends(h: History, flt: str | None = None, by: str = "pipeline", since: float | None = DEFAULT_SINCE) -> dict[str, Trend]:
    """Per group (keyed as `statistics` labels it): a value per day of the window, days without runs included."""
    if by not in GROUP_KEYS:
        raise UnknownGroupKey(by)
    now = h.clock()
    text = (flt or "").strip()
    if since is not None:
        text = f"{text} since:{int(since)}s".strip()
    r = reads.trend_reads(h.db, by, parse_filter(text, now=now))
    if not r.counts:
        return {}
    last = int(now) // 86400
    first = int(now - since) // 86400 if since is not None else min(day for _, day in r.counts)
    days = list(range(first, last + 1))
    out: dict[str, Trend] = {}
    for key in {k for k, _ in r.counts}:
        p50s = []
        for d in days:
            rv = r.durations.get((key, d))
            p50s.append(from_ranks(rv.n, rv.at, 50) if rv else None)
        out[key_label(by, key)] = Trend([key_label("day", d) for d in days], [r.counts.get((key, d), 0) for d in days], p50s)
    return out


def sparkline(values: list[float | None] | list[int]) -> str:
    """One character per value, scaled to the largest: ▁ to █; a blank for no runs or no value."""
    top = max((v for v in values if v), default=0)
    if not top:
        return " " * len(values)
    return "".join(" " if not v else SPARKS[min(7, max(0, round(v / top * 7)))] for v in values)
