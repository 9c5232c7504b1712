"""What a run's timeline reads of its Result: every record's id and kind, and its runs' objects, in one read.

The Timeline tab used to read a Result as the other tabs do (records_of: 26 columns and a RecordRow per
record), then the run's object and its children's objects (two more reads, json.loads each). For a
PipelineRun with 200 TaskRuns that was ~12 ms of the tab's ~25 ms worker. Here: one read of six
columns, the runs' objects parsed with orjson (~2.5x json.loads on them; what orjson refuses, such as
NaN, falls back to json), and on PostgreSQL the jsonb the driver decodes is
taken as it comes (peewee's JSON column would encode it to text again for json to decode).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import peewee as pw

from tekton_results_tui import kinds
from tekton_results_tui.store.models import Record
from tekton_results_tui.store.sql import loads_json


@dataclass
class ResultRecord:
    """One record of a Result, as much as a timeline needs of it."""

    id: int
    kind: str
    uid: str
    run_uid: str
    top_level: bool
    obj: Any  # the stored object of a run (parsed); None for a document (Log, EventList)


def parse_object(raw: Any) -> Any:
    """A stored object as Python: SQLite's text parsed (orjson, json for what orjson refuses: NaN, bad
    text), PostgreSQL's decoded jsonb as is. Unlike json, orjson reads an integer past 64 bits as a float:
    what a timeline reads of a run is text, and exit codes compared with 0."""
    if raw is None or not isinstance(raw, (str, bytes)):
        return raw
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return loads_json(raw if isinstance(raw, str) else raw.decode("utf-8", "replace"), None)


def result_records(result_id: int) -> list[ResultRecord]:
    """Every record of a Result in id order, with the objects of its runs (not of its documents)."""
    data = pw.Case(None, ((Record.kind.in_(list(kinds.RUN_KIND_NAMES)), Record.data),), None)
    q = (Record.select(Record.id, Record.kind, Record.uid, Record.run_uid, Record.top_level, data)
         .where(Record.result == result_id).order_by(Record.id))
    rows = Record._meta.database.execute(q)  # the driver's rows: no per-value converters
    return [ResultRecord(i, k, u, ru, bool(top), parse_object(d)) for i, k, u, ru, top, d in rows]
