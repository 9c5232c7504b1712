"""Records of a Results server -> the store's changes, as the watcher would have made them.

- PipelineRun/TaskRun/CustomRun records -> `ClassifiedRun`, the object's JSON text kept byte for byte;
  the run joins the Result the source filed it under (when that Result is in the run's namespace).
- Log records -> `Logs` of their TaskRun: the content (fetched separately) split into step logs.
- EventList records -> `Events` of their run.
A Log or EventList names its run only indirectly; it is matched against the runs of its Result (in the
page, else in the history). One that has no run yet waits (cursor.pending) until its run arrives.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import orjson

from tekton_results_tui import kinds
from tekton_results_tui.sources.wire import SourceRecord
from tekton_results_tui.store import grouping as g
# the change types themselves (History re-exports them): the reader process (sync_reader.py) classifies runs
# and loads no database library
from tekton_results_tui.store.changes import ClassifiedRun, Events, Logs, StepLogData

if TYPE_CHECKING:
    from tekton_results_tui.store.history import History

RUN_TYPES: dict[str, kinds.RunKind] = {t: k for k in kinds.RUN_KINDS for t in k.record_types}
LOG_TYPES = frozenset({kinds.LOG.record_type, "results.tekton.dev/v1alpha2.Log"})
EVENT_TYPES = frozenset({kinds.EVENT_LIST.record_type})
LOG_ANNOTATION = "results.tekton.dev/log"  # upstream's watcher names a run's Log record here
EVENTLIST_ANNOTATION = "results.tekton.dev/eventlist"


class RunFound:
    """A run this sync knows: its object as the store should classify it for its Logs/Events.

    A run classified in the reader process (sources/sync_reader.py) arrives as its JSON text: the object
    is parsed here only when a Log or EventList needs it (most runs never have one matched in a page)."""

    __slots__ = ("uid", "result_name", "_obj", "_text", "info")

    def __init__(self, uid: str, result_name: str, obj: dict | None = None, text: str | None = None,
                 info: g.RunInfo | None = None) -> None:
        self.uid, self.result_name, self._obj, self._text = uid, result_name, obj, text
        # the run's classification, in its Result, when this sync classified it (not for a stored run): its
        # Logs/Events need not be classified again by the store
        self.info = info

    @property
    def obj(self) -> dict:
        if self._obj is None:
            self._obj = in_result(_DECODER.decode(self._text or "{}"), self.result_name)
        return self._obj

    def __repr__(self) -> str:
        return f"RunFound({self.uid!r}, {self.result_name!r})"


@dataclass
class Translated:
    changes: list[Any] = field(default_factory=list)
    runs: dict[str, RunFound] = field(default_factory=dict)  # uid -> run of this page
    docs: list[SourceRecord] = field(default_factory=list)  # Log/EventList records to match with a run
    skipped: list[str] = field(default_factory=list)
    other: int = 0  # records of types this program does not store


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (no database JSON type holds it)")


# one decoder for every record: json.loads with a parse_constant builds a new decoder at each call (~1/4
# of a small object's parse time)
_DECODER = json.JSONDecoder(parse_constant=_no_constant)
_LONG_INT = re.compile(r"[-:\[,\s]\d{19}")  # a JSON number of 19+ digits (a string's digits only cost a json parse)


def decode_json(r: SourceRecord) -> tuple[str, Any]:
    """The record's JSON text and object. NaN/Infinity are refused: the text is stored as it is, and
    PostgreSQL's JSONB would refuse the whole page's transaction for them.

    orjson parses a run ~3x faster than json (a sync's reader spent most of its time here); whatever it
    refuses (a number past a double, a lone surrogate) is parsed by json as before, so what is stored or
    refused, and the message, stay the same. An integer of 19 digits or more goes to json too: orjson
    would make one past 64 bits a float (an event stored re-serialised, a numeric param, a resourceVersion
    range warning would change)."""
    text = r.value.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if _LONG_INT.search(text):
        return text, _DECODER.decode(text)
    try:
        return text, orjson.loads(text)
    except orjson.JSONDecodeError:
        return text, _DECODER.decode(text)


def translate(records: list[SourceRecord]) -> Translated:
    """The run changes of a page, and its Log/EventList records (matched once the runs are known)."""
    t = Translated()
    for r in records:
        if r.type in RUN_TYPES:
            try:
                text, obj = decode_json(r)
                info = g.classify(obj)
            except (ValueError, RecursionError) as exc:
                t.skipped.append(f"{r.name}: {type(exc).__name__}: {str(exc)[:120]}")
                continue
            source_result = r.result_name
            if source_result != info.result_name and _result_name_ok(source_result, info.namespace):
                info.result_name = source_result
                info.record_name = g.record_name(source_result, info.uid)
            t.changes.append(ClassifiedRun(info, text))
            t.runs[info.uid] = RunFound(info.uid, info.result_name, in_result(obj, info.result_name), info=info)
        elif r.type in LOG_TYPES or r.type in EVENT_TYPES:
            t.docs.append(r)
        else:
            t.other += 1
    return t


_RESULT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def _result_name_ok(name: str, namespace: str) -> bool:
    """The source's Result name is kept when it is `<the run's namespace>/results/<id>` with a plain id."""
    prefix = f"{namespace}/results/"
    return name.startswith(prefix) and _RESULT_ID.fullmatch(name[len(prefix):]) is not None


def in_result(obj: dict, result_name: str) -> dict:
    """A shallow copy of a run whose grouping annotation names `result_name` (only for classifying its
    Logs/Events into the same Result as the run; the stored object is the source's text)."""
    meta = dict(obj.get("metadata") or {})
    ann = meta.get("annotations")
    ann = dict(ann) if isinstance(ann, dict) else {}
    if ann.get(g.RESULT_ANNOTATION) == result_name:
        return obj
    ann[g.RESULT_ANNOTATION] = result_name
    meta["annotations"] = ann
    out = dict(obj)
    out["metadata"] = meta
    return out


class RunFinder:
    """Finds the run a Log/EventList record is about: in this page's runs, else in the history."""

    def __init__(self, history: History, cluster: str) -> None:
        self.history = history
        self.cluster = cluster

    def stored(self, uid: str) -> RunFound | None:
        row = self.history.get_record(uid=uid, cluster=self.cluster)
        if row is None or not kinds.is_run(row.kind):
            return None
        obj = self.history.record_object(row.id)
        if not isinstance(obj, dict):
            return None
        result = self.history.get_result(id=row.result_id)
        name = result.name if result else row.name.rsplit("/records/", 1)[0]
        return RunFound(uid, name, in_result(obj, name))

    def stored_in_result(self, result_name: str) -> list[RunFound]:
        res = self.history.get_result(name=result_name, cluster=self.cluster)
        if res is None:
            return []
        out = []
        for row in self.history.records_of(res.id):
            if kinds.is_run(row.kind):
                obj = self.history.record_object(row.id)
                if isinstance(obj, dict):
                    out.append(RunFound(row.uid, result_name, in_result(obj, result_name)))
        return out

    def run_of(self, r: SourceRecord, doc: Any, page_runs: dict[str, RunFound]) -> RunFound | None:
        if r.type in LOG_TYPES:
            res = spec_resource(doc)
            uid = res.get("uid") if isinstance(res, dict) else None
            if isinstance(uid, str) and uid:
                return page_runs.get(uid) or self.stored(uid)
        candidates = {f.uid: f for f in page_runs.values() if f.result_name == r.result_name}
        for f in self.stored_in_result(r.result_name):
            candidates.setdefault(f.uid, f)
        return match_document(r, doc, list(candidates.values()))


def spec_resource(doc: Any) -> Any:
    """A Log's `spec.resource` (the run it is about), None when the record has no such object."""
    spec = doc.get("spec") if isinstance(doc, dict) else None
    return spec.get("resource") if isinstance(spec, dict) else None


def match_document(r: SourceRecord, doc: Any, candidates: list[RunFound]) -> RunFound | None:
    """The run among `candidates` (runs of the record's Result) a Log/EventList record is about."""
    what = kinds.LOG.name if r.type in LOG_TYPES else kinds.EVENT_LIST.name
    annotation = LOG_ANNOTATION if what == kinds.LOG.name else EVENTLIST_ANNOTATION
    for f in candidates:  # this program's own Records: the id derives from the run's uid
        if g.derived_uid(f.uid, what) == r.record_id:
            return f
    for f in candidates:  # upstream's watcher: the run names its record in an annotation
        ann = (f.obj.get("metadata") or {}).get("annotations") or {}
        if isinstance(ann, dict) and ann.get(annotation) == r.name:
            return f
    if what == kinds.EVENT_LIST.name and isinstance(doc, dict):
        items = doc.get("items")
        objs = [e.get("involvedObject") for e in items if isinstance(e, dict)] if isinstance(items, list) else []
        about = {o.get("uid") for o in objs if isinstance(o, dict) and isinstance(o.get("uid"), str)}
        for f in candidates:
            if f.uid in about:
                return f
    return candidates[0] if len(candidates) == 1 else None


def event_items(doc: Any) -> list[dict] | None:
    items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        return None
    return [e for e in items if isinstance(e, dict)]


_PREFIX = re.compile(rb"\[([^\]\s]{1,253})\] ")
_LINE = re.compile(rb"[^\n]*\n|[^\n]+\Z")


DEFAULT_STEP_CAP = 4 * 1024 * 1024


def step_logs(content: bytes, doc: Any, cut: bool, cap: int = DEFAULT_STEP_CAP) -> list[StepLogData]:
    """A Log record's content as step logs, each cut at `cap` bytes (then marked truncated)."""
    return [s if len(s.text) <= cap else StepLogData(s.step, s.container, s.text[:cap], True, s.state)
            for s in split_steps(content, doc, cut)]


def split_steps(content: bytes, doc: Any, cut: bool) -> list[StepLogData]:
    """A Log record's content as step logs.

    When the record lists its steps with sizes that add up to the content (this program's Log
    records), the content is cut at those sizes and each step keeps its container, truncated flag
    and state. Otherwise lines prefixed `[step] ` (upstream's watcher writes them so) go to their
    step, without the prefix; content with no such prefix is one step named `log`. Steps the record
    lists keep their order, container, truncated flag and state (and a final newline the server added
    to an unfinished last line is dropped when the record's size says so).
    """
    status = doc.get("status") if isinstance(doc, dict) else None
    steps = status.get("steps") if isinstance(status, dict) else None
    if isinstance(steps, list) and steps and all(isinstance(s, dict) and isinstance(s.get("size"), int)
                                                 and isinstance(s.get("name"), str) for s in steps):
        if sum(s["size"] for s in steps) == len(content) and not cut:
            out, pos = [], 0
            for s in steps:
                out.append(StepLogData(s["name"], str(s.get("container") or f"step-{s['name']}"),
                                       content[pos: pos + s["size"]], bool(s.get("truncated")),
                                       str(s.get("state") or "stored")))
                pos += s["size"]
            return out
    meta = [s for s in steps if isinstance(s, dict) and isinstance(s.get("name"), str)] if isinstance(steps, list) else []
    parts: dict[str, list[bytes]] = {}
    current = None
    for line in _LINE.findall(content):  # lines end at \n only: a \r inside a step's output is its own
        m = _PREFIX.match(line)
        if m:
            current = m.group(1).decode("utf-8", "replace")
            line = line[m.end():]
        parts.setdefault(current or "log", []).append(line)
    out = []
    for s in meta:  # the record's steps in its order, each with what the content holds of it
        text = b"".join(parts.pop(s["name"], []))
        size = s.get("size")
        if isinstance(size, int) and len(text) == size + 1 and text.endswith(b"\n"):
            text = text[:-1]  # a server writing whole lines ended the step's last, unfinished one
        out.append(StepLogData(s["name"], str(s.get("container") or f"step-{s['name']}"), text,
                               cut or bool(s.get("truncated")), str(s.get("state") or "stored")))
    for name, lines in parts.items():
        out.append(StepLogData(name, f"step-{name}", b"".join(lines), cut, "stored"))
    if not out:
        out.append(StepLogData("log", "step-log", b"", cut, "stored"))
    return out


def document_change(r: SourceRecord, doc: Any, run: RunFound,
                    fetch_log: Callable[[SourceRecord], tuple[bytes, bool] | list[StepLogData] | None],
                    step_cap: int = DEFAULT_STEP_CAP) -> Any:
    """The Logs or Events change of a matched document, or a string saying why there is none. `fetch_log`
    gives the log's content (and whether it was cut), or its step logs already split (the reader process's)."""
    # a classification with warnings is left to the store: the Result's annotation set by in_result may
    # have replaced one that warned
    info = run.info if run.info is not None and not run.info.warnings else None
    if r.type in LOG_TYPES:
        rk = kinds.run_kind(run.obj.get("kind"))
        if rk is None or not rk.step_logs:
            # upstream also keeps a PipelineRun's log: the lines of its TaskRuns, which are stored as theirs
            return f"{r.name}: a log of a {run.obj.get('kind')} (its TaskRuns' logs hold its lines)"
        got = fetch_log(r)
        if got is None:
            return f"{r.name}: the source has no content for this log"
        if isinstance(got, list):
            return Logs(run.obj, got, info)
        content, cut = got
        return Logs(run.obj, step_logs(content, doc, cut, step_cap), info)
    items = event_items(doc)
    if items is None:
        return f"{r.name}: an EventList without items"
    return Events(run.obj, items, info)
