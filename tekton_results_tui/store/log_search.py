"""Search every stored step log: the query language, and pages of hits newest runs first.

A query is words and "quoted phrases", all of which must be on one line; `-word` / `-"phrase"` lines
that hold it are left out. Everything else is literal: `*`, `:`, `%`, `_`, unicode; inside a phrase
`\\"` is a quote and `\\\\` a backslash. Matching ignores ASCII case (as SQLite's LIKE does; other
letters match as written, on both engines) and escape sequences (a coloured word matches).

The index finds blocks by trigrams, so at least one word must have 3 characters; a query with only
shorter words is refused with a message rather than scanning every stored log (a bounded scan would
answer some histories and silently not others). An empty query, a lone `-` or `"`, an empty phrase
or only excluded words are one-line errors.

Pages: block keys descending (log_index: newest runs first, each step log top to bottom), resumed by
a keyset token `<block key>.<line>`. The run filter (the filter language, on Results) is checked per
step log on a batch of candidate blocks; each batch is 4x the last, so a filter that leaves few runs
still costs a bounded number of round trips.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

import peewee as pw

from tekton_results_tui.errors import UserError
from tekton_results_tui.store import log_index as li
from tekton_results_tui.store.db import is_sqlite
from tekton_results_tui.store.models import LogDoc, Record, Result, StepLog
from tekton_results_tui.store.query import Filter
from tekton_results_tui.store.sql import chunks
from tekton_results_tui.store.storable import storable_text

MIN_CHARS = 3  # trigrams
MAX_TERMS = 20
MAX_TERM_CHARS = 1000
MAX_CONTEXT = 100
FIRST_BATCH = 64  # candidate blocks in the first round trip
MAX_BATCH = 16_384
SCAN_BUDGET = 200_000  # candidate blocks looked at for one page before it returns what it has (and a token)


class LogQueryError(UserError, ValueError):
    """A search the index cannot take; the message is one line saying why."""


class NoLogIndex(UserError):
    """A read-only history whose schema predates the log index."""


fold = li.fold

@dataclass(frozen=True)
class LogQuery:
    text: str
    include: tuple[str, ...]  # as typed (matched folded)
    exclude: tuple[str, ...] = ()

    def matches(self, plain_line: str) -> bool:
        f = fold(plain_line)
        return all(fold(t) in f for t in self.include) and not any(fold(t) in f for t in self.exclude)

    def spans(self, plain_line: str) -> list[tuple[int, int]]:
        """Where the included words are in a (plain) line, sorted, overlaps merged."""
        f = fold(plain_line)
        got: list[tuple[int, int]] = []
        for t in self.include:
            ft = fold(t)
            at = f.find(ft)
            while at >= 0:
                got.append((at, at + len(ft)))
                at = f.find(ft, at + max(1, len(ft)))
        got.sort()
        merged: list[tuple[int, int]] = []
        for a, b in got:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            else:
                merged.append((a, b))
        return merged


def _indexable(term: str) -> int:
    """The longest run of characters the index can look up (LIKE wildcards are not)."""
    return max((len(p) for p in re.split(r"[%_]", term)), default=0)


def parse_log_query(text: str | None) -> LogQuery:
    """Parse a search. Raises LogQueryError (one line) for what the index cannot take."""
    src = storable_text(text or "")  # NUL/surrogates as the store keeps them
    if not src.strip():
        raise LogQueryError('empty search: give a word or a "quoted phrase" (at least 3 characters)')
    include: list[str] = []
    exclude: list[str] = []
    i, n = 0, len(src)
    while i < n:
        if src[i].isspace():
            i += 1
            continue
        neg = src[i] == "-"
        j = i + 1 if neg else i
        if neg and (j >= n or src[j].isspace()):
            raise LogQueryError(f'a lone "-" in {text!r}: write -word to leave out lines with a word, '
                                'or "-" in quotes to search for it')
        if src[j] == '"':
            k, buf = j + 1, []
            while k < n and src[k] != '"':
                if src[k] == "\\" and k + 1 < n and src[k + 1] in '"\\':
                    k += 1
                buf.append(src[k])
                k += 1
            if k >= n:
                raise LogQueryError(f'unclosed quote in {text!r}: end the phrase with ", or write \\" for a quote')
            term = "".join(buf)
            if not term:
                raise LogQueryError(f'an empty phrase "" in {text!r}: put the text to find between the quotes')
            i = k + 1
        else:
            k = j
            while k < n and not src[k].isspace():
                k += 1
            term = src[j:k]
            i = k
        if len(term) > MAX_TERM_CHARS:
            raise LogQueryError(f"a search word of {len(term)} characters: at most {MAX_TERM_CHARS}")
        (exclude if neg else include).append(term)
    if len(include) + len(exclude) > MAX_TERMS:
        raise LogQueryError(f"too many search words ({len(include) + len(exclude)}): at most {MAX_TERMS}")
    if not include:
        raise LogQueryError(f"nothing to find in {text!r}: every word is left out with -; add one to find")
    if max(_indexable(t) for t in include) < MIN_CHARS:
        raise LogQueryError(f"search words of fewer than {MIN_CHARS} characters cannot use the log index: "
                            f"give one word of {MIN_CHARS} or more (other words may be shorter)")
    return LogQuery(text=src, include=tuple(dict.fromkeys(include)), exclude=tuple(dict.fromkeys(exclude)))


@dataclass
class LogHit:
    """One matching line of a stored step log, with its context."""

    cluster: str
    namespace: str
    result_name: str  # <ns>/results/<id>
    pipeline_run: str | None  # the Result's top-level run name
    run_name: str  # the TaskRun whose step this is
    run_uid: str
    log_record_id: int
    step_log_id: int
    step: str
    line: int  # 1-based
    text: str  # the stored line (colour and all): show it through the terminal rules
    plain: str  # the line as matched: escape sequences removed
    spans: list[tuple[int, int]]  # matches in `plain`
    before: list[str] = field(default_factory=list)  # stored lines line-len(before) .. line-1
    after: list[str] = field(default_factory=list)  # stored lines line+1 ..


@dataclass
class LogSearchPage:
    hits: list[LogHit]
    next_token: str | None
    index_complete: bool = True  # False while the backfill has step logs to index (they are not searched)
    pending: int = 0  # step logs the backfill has still to look at


def _token(key: int, line: int) -> str:
    return f"{key}.{line}"


def _parse_token(token: str) -> tuple[int, int]:
    try:
        a, b = token.split(".")
        key, line = int(a), int(b)
    except ValueError:
        raise LogQueryError(f"bad page token {token[:40]!r}: give the token a previous page printed") from None
    if key < 0 or line < 0:
        raise LogQueryError(f"bad page token {token[:40]!r}: give the token a previous page printed")
    return key, line


def _candidates(db: pw.Database, q: LogQuery, upto: int, n: int) -> tuple[list[int], int | None]:
    """Block keys <= upto whose text may hold every included word, descending (at most n), and the
    lowest key looked at (the next batch starts below it), None when nothing is left below."""
    terms = [t for t in q.include if _indexable(t) >= MIN_CHARS]  # the same words on both engines
    if is_sqlite(db):
        sql = f"SELECT rowid FROM {li.FTS} WHERE {li.FTS} MATCH ? AND rowid <= ? ORDER BY rowid DESC LIMIT ?"
        keys = [k for (k,) in db.execute_sql(sql, [_trigram_match(terms), upto, n]).fetchall()]
        return keys, (keys[-1] if len(keys) == n else None)
    return _pg_candidates(db, terms, upto, n)


def _trigram_match(terms: list[str]) -> str:
    """An FTS5 query for blocks holding every trigram of a cover of each term (those at 0, 3, 6, ... and
    the last): a superset of the blocks holding the terms, read from the index alone. `LIKE '%term%'`
    reads every candidate block's text to confirm it (measured on 200k lines, 1,024 candidates of a
    common word: LIKE 8.7 ms, this 0.4 ms); lines are confirmed here anyway, and only in the step logs
    the filter keeps."""
    parts: list[str] = []
    for t in terms:
        at = list(range(0, len(t) - 2, 3))
        if at[-1] != len(t) - 3:
            at.append(len(t) - 3)
        parts.extend('"' + t[i:i + 3].replace('"', '""') + '"' for i in at)
    return " AND ".join(dict.fromkeys(parts))


# PostgreSQL: blocks checked in key order before the trigram index is asked (a batch of more candidates
# checks as many, up to MAX_WINDOW), and while at least one in DENSE of them holds the words. Measured
# at 1M lines: 2000 -> 500 took a rare word's first page from 290 to 90 ms, a common word's 83 -> 44 ms.
RECENT_BLOCKS = 500
MAX_WINDOW = 8192
DENSE = 50


def _pg_candidates(db: pw.Database, terms: list[str], upto: int, n: int) -> tuple[list[int], int | None]:
    """PostgreSQL's planner cannot tell a common word from a rare one (LIKE '%w%' is estimated from its
    length), and each needs the other plan: a common word is found at once walking blocks in key order,
    while the trigram index would make it recheck most of the table; a rare one only through the index,
    whose hits are then sorted. So: the next blocks in key order (a window); when they hold enough
    hits, or the words are common in them (a filter is skipping runs), that is this batch; otherwise
    the GIN index below them."""
    like = " AND ".join(['"body" LIKE %s'] * len(terms))
    args = ["%" + li.fold(t).replace("\\", "\\\\") + "%" for t in terms]  # bodies are stored folded
    t = f'"{li.BLOCK_TABLE}"'
    window = min(max(RECENT_BLOCKS, n), MAX_WINDOW)
    rows = db.execute_sql(f'SELECT "key", ({like}) FROM (SELECT "key", "body" FROM {t} WHERE "key" <= %s '
                          f'ORDER BY "key" DESC LIMIT {int(window)}) AS recent ORDER BY "key" DESC',
                          [*args, upto]).fetchall()
    hits = [k for k, ok in rows if ok]
    if len(hits) >= n:
        return hits[:n], hits[n - 1]
    if len(rows) < window:
        return hits, None
    if len(hits) * DENSE >= len(rows):
        return hits, rows[-1][0]
    want = n - len(hits)
    with db.atomic():  # SET LOCAL: this query only
        if li.pg_trgm_schema(db) is not None:
            db.execute_sql("SET LOCAL enable_seqscan = off")
        more = [k for (k,) in db.execute_sql(
            f'SELECT "key" FROM {t} WHERE {like} AND ("key" + 0) < %s ORDER BY "key" DESC LIMIT %s',
            [*args, rows[-1][0], want]).fetchall()]
    return hits + more, (more[-1] if len(more) == want else None)


@dataclass(eq=False)
class _Doc:
    step_log_id: int
    per_block: int
    step: str
    log_record_id: int
    cluster: str
    namespace: str
    run_name: str
    run_uid: str
    result_name: str
    pipeline_run: str | None
    lines: list[str] | None = None


def _docs(doc_keys: list[int], flt: Filter) -> dict[int, _Doc]:
    """The step logs with these doc keys whose Result the filter keeps (500 keys a query)."""
    out: dict[int, _Doc] = {}
    w = flt.for_results()
    for part in chunks(doc_keys):
        # integers inlined: peewee builds a node per parameter, which cost more than the query
        cond = LogDoc.key.in_(pw.SQL("(" + ",".join(str(int(k)) for k in part) + ")"))
        out.update(_docs_where(cond if w is None else cond & w))
    return out


def _docs_where(cond: pw.Expression) -> dict[int, _Doc]:
    q = (LogDoc.select(LogDoc.key, LogDoc.step_log, LogDoc.per_block, StepLog.step, Record.id, Record.cluster,
                       Record.parent, Record.run_name, Record.run_uid, Result.name, Result.display_name)
         .join(StepLog, on=(LogDoc.step_log == StepLog.id))
         .join(Record, on=(StepLog.record == Record.id))
         .join(Result, on=(Record.result == Result.id))
         .where(cond).tuples())
    return {r[0]: _Doc(*r[1:]) for r in q}


PREFETCH = 32  # step logs read in one round trip


def _load(docs: list[_Doc]) -> None:
    """Read and split the stored text of these step logs (one query)."""
    got = dict(StepLog.select(StepLog.id, StepLog.data).where(StepLog.id << [d.step_log_id for d in docs]).tuples())
    for d in docs:
        blob = got.get(d.step_log_id)
        d.lines = li.split_lines(zlib.decompress(bytes(blob))) if blob is not None else []


def search(db: pw.Database, q: LogQuery, flt: Filter, context: int = 0, page_token: str | None = None,
           limit: int = 50) -> LogSearchPage:
    """A page of hits (newest runs first) and the token of the next page (None after the last)."""
    if not li.has_index(db):
        raise NoLogIndex("this history has no log index yet; open it writable once")
    context = max(0, min(int(context), MAX_CONTEXT))
    limit = max(1, int(limit))
    upto, after_line = (1 << 63) - 1, 0
    if page_token:
        upto, after_line = _parse_token(page_token)
    hits: list[LogHit] = []
    docs: dict[int, _Doc | None] = {}
    batch, scanned = FIRST_BATCH, 0
    last_key = None
    while True:
        keys, lowest = _candidates(db, q, upto, batch)
        scanned += len(keys)
        blocks = [(k, *li.block_of(k)) for k in keys]
        new = sorted({dk for _, dk, _ in blocks} - docs.keys())
        if new:
            got = _docs(new, flt)
            for dk in new:
                docs[dk] = got.get(dk)
        order = [d for d in dict.fromkeys(docs[dk] for _, dk, _ in blocks) if d is not None]
        place = {id(d): n for n, d in enumerate(order)}
        for k, dk, block in blocks:
            d = docs[dk]
            if d is None:
                continue
            if d.lines is None:  # this step log and the next few the batch reaches
                at = place[id(d)]
                _load([x for x in order[at:at + PREFETCH] if x.lines is None])
            lines = d.lines or []
            first = block * d.per_block
            for i in range(first, min(first + d.per_block, len(lines))):
                if k == upto and i + 1 <= after_line:
                    continue
                p = li.plain(lines[i])
                if not q.matches(p):
                    continue
                if len(hits) == limit:  # one more exists: the page ends at the last one kept
                    last = hits[-1]
                    return _page(db, hits, _token(last_key or k, last.line))
                hits.append(LogHit(d.cluster, d.namespace, d.result_name, d.pipeline_run, d.run_name, d.run_uid,
                                   d.log_record_id, d.step_log_id, d.step, i + 1, lines[i], p, q.spans(p),
                                   lines[max(0, i - context):i], lines[i + 1:i + 1 + context]))
                last_key = k
        for d in order[:-1]:  # memory stays flat on long scans: passed step logs' texts go (the last may go on)
            d.lines = None
        if lowest is None:
            return _page(db, hits, None)
        upto, after_line = lowest - 1, 0
        if scanned >= SCAN_BUDGET:  # a filter that keeps almost nothing: the caller may ask on
            return _page(db, hits, _token(upto, 0))
        batch = min(batch * 4, MAX_BATCH)


def _page(db: pw.Database, hits: list[LogHit], token: str | None) -> LogSearchPage:
    left = li.pending()
    return LogSearchPage(hits, token, index_complete=left == 0, pending=left)
