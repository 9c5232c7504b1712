"""Building histories with stored step logs, and reading the log index's rows back."""

from __future__ import annotations

from store_objects import T0, pr, tr

from tekton_results_tui.store import log_index as li
from tekton_results_tui.store.db import is_sqlite
from tekton_results_tui.store.history import History, Logs, RunUpsert, StepLogData


def store_run(h: History, name: str, steps: dict[str, bytes], *, pipeline: str = "build", failed: bool = False,
              created: int = T0 - 600, ns: str = "ci") -> tuple[dict, dict]:
    """A PipelineRun with one TaskRun `<name>-t` whose step logs are `steps`; (pipelinerun, taskrun)."""
    cond = {"cond": "False", "reason": "Failed"} if failed else {}
    p = pr(name, pipeline=pipeline, created=created, ns=ns, **cond)
    t = tr(name + "-t", p, created=created + 1, **cond)
    h.apply([RunUpsert(p), RunUpsert(t),
             Logs(t, [StepLogData(s, "step-" + s, text) for s, text in steps.items()])])
    return p, t


def all_hits(h: History, query: str, flt: str = "", limit: int = 50, context: int = 0) -> list:
    """Every hit of a search, page after page."""
    out, token = [], None
    while True:
        page = h.search_logs(query, flt, context=context, page_token=token, limit=limit)
        out.extend(page.hits)
        token = page.next_token
        if token is None:
            return out


def where(hits: list) -> list[tuple[str, str, int]]:
    return [(x.run_name, x.step, x.line) for x in hits]


def index_rows(h: History) -> list[tuple[int, str]]:
    """(block key relative to its step log, indexed text) of every index row, with the step log's id:
    comparable between two builds of the index (keys are allocated, texts are not)."""
    db = h.db
    docs = {k: sid for sid, k in db.execute_sql("SELECT step_log_id, key FROM log_doc").fetchall()}
    if is_sqlite(db):
        rows = db.execute_sql(f"SELECT rowid, body FROM {li.FTS}").fetchall()
    else:
        rows = db.execute_sql(f'SELECT "key", body FROM {li.BLOCK_TABLE}').fetchall()
    out = []
    for key, body in rows:
        doc, block = li.block_of(key)
        out.append((docs.get(doc, -1), block, body))
    return sorted(out)
