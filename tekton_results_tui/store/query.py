"""The filter language (TUI `/` bar and the CLI) compiled to peewee expressions.

Words separated by spaces, all must match; a leading `-` negates a term:
  status:failed  ns:ci  pipeline:build  task:golang-build  kind:taskrun  label:app=web
  reason:StepOOM  cluster:prod  since:2h  before:2026-11-01  dur>5m  flaky:true  and bare words
  (a substring of the run or pipeline name). Values may be comma lists (status:failed,timeout)
  and `pipeline:`/`task:`/`ns:` values may use `*` as a wildcard. Every term compiles to
  SQL on index columns; the same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
import re
import shlex
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Sequence

import peewee as pw

from tekton_results_tui import kinds
from tekton_results_tui.errors import UserError
from tekton_results_tui.store import grouping as g
from tekton_results_tui.store.db import NAME_FTS, has_run_stats, is_sqlite
from tekton_results_tui.store.models import Label, Record, Result, RunStat, database_proxy
from tekton_results_tui.store.storable import storable_text


class FilterError(UserError, ValueError):
    """A bad filter; the message names the term and what was expected."""

    def __init__(self, term: str, message: str) -> None:
        super().__init__(message)
        self.term = term


KEYS = ("status", "ns", "namespace", "pipeline", "task", "kind", "label", "reason", "cluster", "since", "before", "name", "dur",
        "flaky")
BOOL_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
STATUS_WORDS = {
    "succeeded": g.SUCCESS, "success": g.SUCCESS, "ok": g.SUCCESS, "passed": g.SUCCESS,
    "failed": g.FAILURE, "failure": g.FAILURE, "error": g.FAILURE,
    "cancelled": g.CANCELLED, "canceled": g.CANCELLED,
    "timeout": g.TIMEOUT, "timedout": g.TIMEOUT, "timed-out": g.TIMEOUT,
    "running": g.UNKNOWN, "unknown": g.UNKNOWN, "pending": g.UNKNOWN,
}
KIND_WORDS = kinds.ALIASES  # `kind:` words -> the kind stored in Record.kind
_KIND_CHOICES = [k.aliases[0] for k in (*kinds.RUN_KINDS, *kinds.DOCUMENT_KINDS)]
_DUR_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_DUR_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_CMP_RE = re.compile(r"^(dur|duration)(>=|<=|>|<|=)(.+)$")


MAX_DURATION_S = 1000 * 366 * 86400  # longer than any run or history: a typo, not a question
MAX_TERMS = 100  # words in one filter
MAX_VALUES = 100  # comma-separated values in one term


class DurationError(ValueError):
    """A duration that reads but is out of range; its message says so (no example needed)."""


def parse_duration(text: str) -> float:
    """`90s`, `5m`, `1h30m`, `2d`, `1w` -> seconds, at most MAX_DURATION_S. Raises ValueError."""
    t = text.strip().lower()
    if not t:
        raise ValueError("empty duration")
    pos, total = 0, 0.0
    for mt in _DUR_RE.finditer(t):
        if mt.start() != pos:
            raise ValueError(f"bad duration {text!r}")
        total += float(mt.group(1)) * _DUR_UNITS[mt.group(2)]
        pos = mt.end()
    if pos != len(t):
        raise ValueError(f"bad duration {text!r}")
    if not total <= MAX_DURATION_S:  # also catches inf/nan from hundreds of digits
        raise DurationError(f"duration {text[:40]!r} is longer than 1000 years")
    return total


def parse_when(text: str, now: float) -> int:
    """A point in time: a duration ago (`2h`), a date (`2026-11-01`) or an RFC 3339 time."""
    try:
        return int(now - parse_duration(text))
    except DurationError:
        raise
    except ValueError:
        pass
    t = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
        return int(datetime.strptime(t, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp())
    parsed = g.parse_time(t)
    if parsed is None:
        raise ValueError(f"bad time {text!r}")
    return parsed


@dataclass
class Term:
    raw: str
    key: str  # one of KEYS, or "word"
    op: str  # ":" or a comparison
    value: str
    negated: bool = False


@dataclass
class Filter:
    """A parsed filter: compile with `for_results()` or `for_records()`."""

    text: str = ""
    terms: list[Term] = field(default_factory=list)
    now: float = 0.0

    @property
    def empty(self) -> bool:
        return not self.terms

    def for_results(self, counting: bool = False, bounded: bool = False,
                    without: Term | None = None) -> pw.Expression | None:
        """The filter on Results; `counting` when every match is read (an exact count), `bounded` for
        the first N in no order (a "≥ N" count), else the first ones in an order (a page): see
        `_driven_by_set`. `without`: a term left out (one the caller applies itself: `driving_label`)."""
        return _combine([_neg(t, _result_expr(t, self.now, counting, bounded)) for t in self.terms if t is not without])

    def driving_label(self) -> tuple[Term, str, str] | None:
        """The first `label:k=v` term (not negated): a bounded count reads its Results by joining the
        label index to Result, so it stops after N matches. As `id IN (SELECT ... FROM label)`, SQLite
        first copies the label's whole set into a temporary index (measured at 200k Results, 25k of
        them `team=web`: a count to 1,000 took 10.7 ms, joined 0.3 ms; with dur>5m and a status, 20 ->
        0.8 ms). A label key=value is one row per Result, so the join repeats none; `label:k` may
        match several values of a key and is not a driver."""
        for t in self.terms:
            if t.key == "label" and not t.negated and "!=" not in t.value and "=" in t.value:
                k, v = t.value.split("=", 1)
                return t, k, v
        return None

    def driving_word(self) -> tuple[Term, pw.Expression] | None:
        """SQLite: the first bare word (not negated, 3+ characters) a bounded count reads from the name
        trigram index (FTS5 hands its matches over lazily), joined to Result, with the expression that
        keeps the word's exact meaning (the trigram MATCH and the LIKE). Scanning Results until N
        names match reads whole rows, and all of them when few match; as `id IN (the index's set)`
        the set is copied first (measured at 1.2M records, "nightly" 33k matches: joined 2.1 ms CPU /
        5.3 ms, scanned 3.5 / 9-21 ms, as IN 31.6 / 157 ms)."""
        db = database_proxy.obj
        if db is None or not is_sqlite(db) or not has_run_stats(db):
            return None
        for t in self.terms:
            if t.key == "word" and not t.negated and len(t.value) >= 3:
                match = pw.NodeList((pw.SQL(NAME_FTS), pw.SQL("MATCH"), _fts_phrase(t.value)))
                return t, match & _like_any([Result.display_name, Result.pipeline], t.value)
        return None

    def for_records(self) -> pw.Expression | None:
        return _combine([_neg(t, _record_expr(t, self.now)) for t in self.terms])

    def for_run_stats(self) -> pw.Expression | None:
        """The filter on runs' statistics rows (models.RunStat): what for_records() selects among runs."""
        return _combine([_neg(t, _record_expr(t, self.now, RunStat)) for t in self.terms])


def _fold(exprs: list[pw.Expression], op: Callable[[pw.Expression, pw.Expression], pw.Expression]) -> pw.Expression:
    """exprs joined by `op` as a balanced tree: SQL nesting (and peewee's recursion) grows as log2(n)."""
    while len(exprs) > 1:
        exprs = [op(exprs[i], exprs[i + 1]) if i + 1 < len(exprs) else exprs[i] for i in range(0, len(exprs), 2)]
    return exprs[0]


def _combine(exprs: list[pw.Expression]) -> pw.Expression | None:
    return _fold(exprs, lambda a, b: a & b) if exprs else None


def _neg(term: Term, expr: pw.Expression) -> pw.Expression:
    # NOT(COALESCE(x, FALSE)): a negated term keeps rows whose column is NULL.
    return ~pw.fn.COALESCE(expr, False) if term.negated else expr


def _suggest(key: str) -> str:
    import difflib  # only for a mistyped key's suggestion: not at every start

    close = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.6)
    return f' — did you mean "{close[0]}"?' if close else f" — known keys: {', '.join(k for k in KEYS if k != 'namespace')}"


def parse_filter(text: str | None, now: float | None = None) -> Filter:
    """Parse (and validate every value of) a filter. Raises FilterError naming the bad term."""
    now = time.time() if now is None else now
    f = Filter(text=text or "", now=now)
    if not text or not text.strip():
        return f
    try:
        words = shlex.split(storable_text(text))  # NUL/surrogates as the store keeps them, so they match
    except ValueError as exc:
        raise FilterError(text, f"cannot read filter {text[:80]!r}: {exc}") from None
    if len(words) > MAX_TERMS:
        raise FilterError(words[MAX_TERMS], f'too many terms: a filter has at most {MAX_TERMS} '
                                            f'("{words[MAX_TERMS][:40]}" is term {MAX_TERMS + 1} of {len(words)})')
    for raw in words:
        negated = raw.startswith("-") and len(raw) > 1
        body = raw[1:] if negated else raw
        mt = _CMP_RE.match(body)
        if mt:
            key, op, value = "dur", mt.group(2), mt.group(3)
        elif ":" in body:
            key, value = body.split(":", 1)
            key, op = key.lower(), ":"
            if key not in KEYS:
                raise FilterError(raw, f'unknown key "{key[:40]}" in "{raw[:60]}"{_suggest(key)}')
            if key == "dur":
                raise FilterError(raw, f'"{raw[:60]}": write durations as dur>5m, dur<30s, dur>=1h')
        elif body.lower().startswith(("dur", "duration")) and re.match(r"^(dur|duration)\W", body.lower()):
            raise FilterError(raw, f'bad duration term "{raw[:60]}": expected dur>5m, dur<30s, dur>=1h or dur<=2h')
        else:
            key, op, value = "word", ":", body
        if key == "namespace":
            key = "ns"
        if key != "word" and not value.strip(","):
            raise FilterError(raw, f'"{raw[:60]}": no value after "{key}:"')
        if value.count(",") >= MAX_VALUES:
            raise FilterError(raw, f'"{raw[:60]}": at most {MAX_VALUES} comma-separated values in one term')
        term = Term(raw=raw, key=key, op=op, value=value, negated=negated)
        _validate(term, now)
        f.terms.append(term)
    return f


def _validate(t: Term, now: float) -> None:
    if t.key == "status":
        for v in t.value.split(","):
            if v.lower() not in STATUS_WORDS:
                raise FilterError(t.raw, f'bad status "{v[:40]}" in "{t.raw[:60]}" — expected succeeded, failed, cancelled, timeout or running')
    elif t.key == "kind":
        for v in t.value.split(","):
            if v.lower() not in KIND_WORDS:
                raise FilterError(t.raw, f'bad kind "{v[:40]}" in "{t.raw[:60]}" — expected {", ".join(_KIND_CHOICES[:-1])} or {_KIND_CHOICES[-1]}')
    elif t.key in ("since", "before"):
        try:
            parse_when(t.value, now)
        except DurationError as exc:
            raise FilterError(t.raw, f'bad time "{t.value[:40]}" in "{t.raw[:60]}" — {exc}') from None
        except ValueError:
            raise FilterError(t.raw, f'bad time "{t.value[:40]}" in "{t.raw[:60]}" — expected a duration ago (2h, 3d) or a date (2026-11-01)') from None
    elif t.key == "dur":
        try:
            parse_duration(t.value)
        except DurationError as exc:
            raise FilterError(t.raw, f'bad duration "{t.value[:40]}" in "{t.raw[:60]}" — {exc}') from None
        except ValueError:
            raise FilterError(t.raw, f'bad duration "{t.value[:40]}" in "{t.raw[:60]}" — expected e.g. 90s, 5m, 1h30m') from None
    elif t.key == "flaky":
        if t.value.lower() not in BOOL_WORDS:
            raise FilterError(t.raw, f'bad value "{t.value[:40]}" in "{t.raw[:60]}" — expected flaky:true or flaky:false')
        if not has_run_stats(database_proxy.obj):
            raise FilterError(t.raw, f'"{t.raw[:60]}" needs the flaky columns this older history lacks: open it once '
                                     "without --read-only to upgrade it")
    elif t.key == "label":
        k = t.value.split("!=", 1)[0].split("=", 1)[0]
        if not k:
            raise FilterError(t.raw, f'bad label "{t.value[:40]}" in "{t.raw[:60]}" — expected label:key=value or label:key')


def _like(lhs: pw.Node, pattern: str) -> pw.Node:
    # explicit ESCAPE: SQLite has no default escape character, PostgreSQL's is backslash
    return pw.NodeList((lhs, pw.SQL("LIKE"), pattern, pw.SQL("ESCAPE '\\'")))


def _folded(col: pw.Field) -> pw.Node:
    """`col` as a case-insensitive LIKE (with a lower-case pattern) should read it.

    PostgreSQL: LOWER(col), the expression its pg_trgm indexes hold. SQLite: the column itself — its
    LIKE already ignores ASCII case and its LOWER folds only ASCII, so the meaning is the same, and
    skipping LOWER halves the cost per row of a scan (measured at 200k Results: 15.5k rows of a
    `pipeline:deploy-* since:7d` count 14.6 -> 6.9 ms, a common word's bounded count 7.8 -> 3.0 ms).
    """
    db = database_proxy.obj
    return col if db is not None and is_sqlite(db) else pw.fn.LOWER(col)


def _text_match(col: pw.Field, value: str) -> pw.Expression:
    values = [v for v in value.split(",") if v]
    exprs = []
    for v in values:
        if "*" in v:
            pat = v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
            exprs.append(_like(_folded(col), pat.lower()))
        else:
            exprs.append(col == v)
    return _fold(exprs, lambda a, b: a | b)


def _like_any(cols: list[pw.Field], word: str) -> pw.Expression:
    # case-insensitive substring: LIKE %word% on the folded column (`_folded`) behaves the same on both engines
    # (PostgreSQL answers it from pg_trgm GIN indexes on LOWER(display_name) and LOWER(pipeline))
    pat = "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    out: pw.Expression | None = None
    for c in cols:
        e = _like(_folded(c), pat)
        out = e if out is None else (out | e)
    assert out is not None
    return out


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _result_word(word: str, counting: bool = False) -> pw.Expression:
    """A bare word on Results: a substring of the display name or pipeline.

    SQLite: the Results whose names hold every trigram of the word come from the FTS5 trigram
    index (its case folding matches a superset of LOWER's), then the LIKE keeps the exact
    meaning — when the set drives the query (`_driven_by_set`); a common word instead scans the
    newest-first index and tests each name, which finds a page's 50 at once. Words under three
    characters have no trigram and scan, as do older histories.
    """
    like = _like_any([Result.display_name, Result.pipeline], word)
    db = database_proxy.obj
    if len(word) < 3 or db is None or not is_sqlite(db) or not has_run_stats(db):
        return like
    if not _driven_by_set(counting, "word", word):
        return like
    hits = pw.SQL(f"(SELECT rowid FROM {NAME_FTS} WHERE {NAME_FTS} MATCH ?)", [_fts_phrase(word)])
    return pw.Expression(Result.id, "IN", hits) & like


def small_set_limit(n_results: int) -> int:
    """Matches under which reading them all (and sorting) beats walking newest-first to a page's 50.

    Walking finds 50 of s matches among N Results after ~50*N/s rows, each a cheap index probe;
    reading the set costs ~s row reads and a sort, ~5x dearer per row: equal at s = sqrt(10*N)
    (measured: 2,500 of 20k Results read and sorted 14-17 ms, walked 0.1-1 ms)."""
    return max(200, int((10 * max(n_results, 0)) ** 0.5))


def _driven_by_set(counting: bool, kind: str, value: str) -> bool:
    """Whether a label or word term should drive the query from its index's set of Results.

    An exact count reads every match: the set's index drives it. A page (or a bounded count)
    wants the first matches in an order: SQLite's planner, lacking the set's size, reads and
    sorts the whole set (measured 236 ms for a 25k-Result label at 200k Results) where walking
    the newest-first index and probing each Result finds 50 in 0.1 ms. So a page is driven by
    the set only when the set is small (`small_set_limit`); its size is counted from the index,
    stopping there. PostgreSQL estimates the size itself (statistics): always the set form there.
    """
    db = database_proxy.obj
    if counting or db is None or not is_sqlite(db):
        return True
    return _small_set(id(db), kind, value)


@functools.lru_cache(maxsize=512)
def _small_set(db_key: int, kind: str, value: str) -> bool:
    """Whether a label or word's index holds few Results, for `_driven_by_set`.

    Cached: only the order of magnitude matters, and it changes slowly."""
    db = database_proxy.obj
    limit = small_set_limit(int(Result.select(pw.fn.MAX(Result.id)).scalar() or 0))
    if kind == "word":
        sql = f"SELECT COUNT(*) FROM (SELECT rowid FROM {NAME_FTS} WHERE {NAME_FTS} MATCH ? LIMIT {limit}) AS s"
        row = db.execute_sql(sql, (_fts_phrase(value),)).fetchone()
        return (int(row[0]) if row else 0) < limit
    k, _, v = value.partition("=")
    cond = (Label.key == k) & (Label.value == v) if "=" in value else (Label.key == k)
    inner = Label.select(pw.SQL("1")).where(cond).limit(limit)
    return int(Label.select(pw.fn.COUNT(pw.SQL("*"))).from_(inner.alias("s")).scalar() or 0) < limit


_PASS, _FAIL = (g.SUCCESS,), (g.FAILURE, g.TIMEOUT)  # a cancel is a person's decision: neither


def _other_outcome(mine: pw.Node, theirs: pw.Node) -> pw.Expression:
    return (((mine << list(_PASS)) & (theirs << list(_FAIL))) | ((mine << list(_FAIL)) & (theirs << list(_PASS))))


def _flaky_results(few: bool = False) -> pw.Expression:
    """A Result is flaky (as statistics judge it, over the whole history): another run of its pipeline
    (same cluster and namespace) on its revision had the other outcome; or one of its TaskRuns passed
    on a retry; or one of its pipeline tasks both failed and passed on its revision.

    Two small sets come first, each read from an index alone: the Results with a TaskRun passed on
    a retry (run_stat(retries)), and the (pipeline, revision) pairs built more than once
    (result(pipeline, revision)) — most revisions are built once. Only a Result in the second set
    is compared with its siblings (EXISTS probes of result(pipeline, revision) and run_stat(result, kind)).
    """
    other = Result.alias("flaky_r")
    same_source = ((other.pipeline == Result.pipeline) & (other.revision == Result.revision)
                   & (other.cluster == Result.cluster) & (other.parent == Result.parent)
                   & other.summary_record.is_null(False))
    by_revision = pw.fn.EXISTS(other.select(pw.SQL("1")).where(
        same_source & (other.id != Result.id) & _other_outcome(Result.summary_status, other.summary_status)))
    mine, theirs = RunStat.alias("flaky_mine"), RunStat.alias("flaky_theirs")
    task = kinds.TASK_RUN.name
    by_task = pw.fn.EXISTS(
        mine.select(pw.SQL("1"))
        .join(other, on=same_source)
        .join(theirs, on=((theirs.result == other.id) & (theirs.kind == task)))
        .where((mine.result == Result.id) & (mine.kind == task)
               & (pw.fn.COALESCE(theirs.pipeline_task, theirs.task) == pw.fn.COALESCE(mine.pipeline_task, mine.task))
               & _other_outcome(mine.status, theirs.status)))
    built = Result.alias("flaky_b")
    rebuilt = (built.select(built.pipeline, built.revision)
               .where(built.revision.is_null(False))  # the index alone: a superset is fine
               .group_by(built.pipeline, built.revision).having(pw.fn.COUNT(pw.SQL("*")) > 1))
    retried = RunStat.alias("flaky_s")
    passed_on_retry = retried.select(retried.result).where((retried.retries > 0) & (retried.status << list(_PASS)))
    if few:  # a handful of Results (flaky_results_among): a probe each beats grouping every Result
        shared = pw.fn.EXISTS(built.select(pw.SQL("1")).where(
            (built.pipeline == Result.pipeline) & (built.revision == Result.revision) & (built.id != Result.id)))
    else:
        shared = pw.Tuple(Result.pipeline, Result.revision) << rebuilt
    return (Result.id << passed_on_retry) | (shared & (by_revision | by_task))


def flaky_results_among(ids: Sequence[int]) -> pw.Expression:
    """Which of these (few) Results are flaky, by the rule of `_flaky_results`. Its rebuilt-revision
    set groups every Result (~200 ms at 1.2M records, whatever the filter); for a page of Results the
    EXISTS probes per Result (index on result(pipeline, revision)) answer in a few ms."""
    return (Result.id << list(ids)) & _flaky_results(few=True)


def _flaky(value: str, owner: pw.Field) -> pw.Expression:
    """`owner` (Result.id or Record.result) is / is not among the flaky Results."""
    flaky = Result.select(Result.id).where(_flaky_results())
    return (owner << flaky) if BOOL_WORDS[value.lower()] else pw.Expression(owner, "NOT IN", flaky)


_OPS: dict[str, Callable[[pw.Node, float], pw.Expression]] = {
    ">": lambda c, v: c > v, "<": lambda c, v: c < v, ">=": lambda c, v: c >= v,
    "<=": lambda c, v: c <= v, "=": lambda c, v: c == v,
}


def _label_exists(value: str) -> pw.Expression:
    """`label:k=v` / `label:k` on Results as a probe of the label table's primary key per Result."""
    k, _, v = value.partition("=")
    cond = (Label.result == Result.id) & (Label.key == k)
    if "=" in value:
        cond = cond & (Label.value == v)
    return pw.fn.EXISTS(Label.select(pw.SQL("1")).where(cond))


def _label_expr(value: str, owner: pw.Field) -> pw.Expression:
    """`owner` (Result.id or Record.result) is in / not in the Results whose runs carry the label."""
    if "!=" in value:
        k, v = value.split("!=", 1)
        sub = Label.select(Label.result).where((Label.key == k) & (Label.value == v))
        return pw.Expression(owner, "NOT IN", sub)
    if "=" in value:
        k, v = value.split("=", 1)
        sub = Label.select(Label.result).where((Label.key == k) & (Label.value == v))
    else:
        sub = Label.select(Label.result).where(Label.key == value)
    return owner << sub


def _record_expr(t: Term, now: float, src: type[Record] | type[RunStat] = Record) -> pw.Expression:
    """A term on run Records, or (`src=RunStat`) on their statistics rows, which carry the same columns."""
    v = t.value
    created = Record.create_time if src is Record else RunStat.created
    if t.key == "status":
        return src.status << sorted({STATUS_WORDS[x.lower()] for x in v.split(",")})
    if t.key == "ns":
        return _text_match(src.parent, v)
    if t.key == "pipeline":
        return _text_match(src.pipeline, v)
    if t.key == "task":
        return _text_match(src.task, v) | _text_match(src.pipeline_task, v)
    if t.key == "kind":
        return src.kind << sorted({KIND_WORDS[x.lower()] for x in v.split(",")})
    if t.key == "reason":
        return _text_match(src.reason, v)
    if t.key == "cluster":
        return _text_match(src.cluster, v)
    if t.key == "name":
        return _text_match(src.run_name, v)
    if t.key == "label":
        return _label_expr(v, src.result)
    if t.key == "since":
        return created >= parse_when(v, now)
    if t.key == "before":
        return created < parse_when(v, now)
    if t.key == "dur":
        return _OPS[t.op](src.duration, parse_duration(v))
    if t.key == "flaky":
        return _flaky(v, src.result)
    return _like_any([src.run_name, src.pipeline], v)


def _result_expr(t: Term, now: float, counting: bool = False, bounded: bool = False) -> pw.Expression:
    v = t.value
    if t.key == "status":
        return Result.summary_status << sorted({STATUS_WORDS[x.lower()] for x in v.split(",")})
    if t.key == "ns":
        return _text_match(Result.parent, v)
    if t.key == "pipeline":
        return _text_match(Result.pipeline, v)
    if t.key == "cluster":
        return _text_match(Result.cluster, v)
    if t.key == "name":
        return _text_match(Result.display_name, v)
    if t.key == "label":
        # a bounded count stops after N of the label's set, read from its covering index (measured at
        # 200k Results, 25k labelled: 6 ms for 1,000 against 61 ms probing Results newest-first)
        if "!=" not in v and not _driven_by_set(counting or bounded, "label", v):
            return _label_exists(v)
        return _label_expr(v, Result.id)
    if t.key == "since":
        return Result.sort_time >= parse_when(v, now)
    if t.key == "before":
        return Result.sort_time < parse_when(v, now)
    if t.key == "dur":
        return _OPS[t.op](Result.summary_duration, parse_duration(v))
    if t.key == "word":
        return _result_word(v, counting)
    if t.key == "flaky":
        if not BOOL_WORDS[v.lower()]:
            return ~_flaky_results()
        return _flaky_results()
    # task, kind, reason: a Result matches when one of its Records does
    sub = Record.select(Record.result).where(_record_expr(t, now))
    return Result.id << sub
