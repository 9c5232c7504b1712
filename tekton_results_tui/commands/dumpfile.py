"""Read `kubectl get pipelineruns,taskruns,customruns -o yaml|json` dumps into run objects.

A dump is a List (kind `List` or `*List`), a single object, multi-document YAML, or
JSON. One bad part never stops the rest: YAML documents are split on `---` lines and
parsed one at a time, so a malformed document costs only itself; every object that
cannot be stored comes back as a `Problem` naming it and the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

import yaml
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, SequenceNode

from tekton_results_tui import kinds
from tekton_results_tui.commands import limits
from tekton_results_tui.store.history import describe_object

_FastBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: several times faster on big dumps

_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _TimestampsAsText:
    """Leaves timestamps as strings (as kubectl's JSON has them).

    An unquoted `creationTimestamp: 2026-01-01T00:00:00Z` would otherwise become a datetime
    that neither the grouping rules (they read RFC 3339 text) nor JSON storage accept.
    """

    def resolve(self, kind, value, implicit):  # noqa: ANN001, ANN201 - PyYAML's signature
        tag = super().resolve(kind, value, implicit)  # type: ignore[misc]
        return _STR_TAG if tag == _TIMESTAMP_TAG else tag


class _FastLoader(_TimestampsAsText, _FastBase):  # type: ignore[misc, valid-type]
    """The safe loader on libyaml, for documents without anchors (what kubectl writes).

    libyaml refuses nesting past 1000 levels itself; deeper than limits.MAX_DEPTH is refused per
    object after loading (dump_stream.classified_runs).
    """


class _CheckedLoader(_TimestampsAsText, yaml.SafeLoader):
    """The safe loader with YAML's aliases and nesting bounded while the document is composed.

    Aliases are where a few hundred bytes become gigabytes ("billion laughs": nine aliases of nine
    aliases of ...): each alias use adds the expanded size of what it names, and the document is
    refused as soon as the uses or the values they add pass the limits — before anything is built.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._alias_uses = 0
        self._alias_values = 0
        self._sizes: dict[int, int] = {}  # id(collection node) -> values in it, aliases expanded

    def compose_node(self, parent, index):  # noqa: ANN001, ANN201 - PyYAML's signature
        if self.check_event(AliasEvent):
            node = super().compose_node(parent, index)
            self._alias_uses += 1
            self._alias_values += self._sizes.get(id(node), 1)
            if self._alias_uses > limits.MAX_ALIASES:
                raise limits.DumpLimitError(f"more than {limits.MAX_ALIASES} YAML alias uses in one document")
            if self._alias_values > limits.MAX_ALIAS_NODES:
                raise limits.DumpLimitError(f"YAML aliases expand to more than {limits.MAX_ALIAS_NODES:,} values "
                                            "(an alias bomb?)")
            return node
        collection = self.check_event(SequenceStartEvent, MappingStartEvent)
        if collection:
            self._depth += 1
            if self._depth > limits.MAX_DEPTH:
                raise limits.DumpLimitError(limits.DEEP_REASON)
        try:
            node = super().compose_node(parent, index)
        finally:
            if collection:
                self._depth -= 1
        if isinstance(node, SequenceNode):
            self._sizes[id(node)] = 1 + sum(self._sizes.get(id(c), 1) for c in node.value)
        elif isinstance(node, MappingNode):
            self._sizes[id(node)] = 1 + sum(self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value)
        return node


# an anchor (`&name` where a value starts): only then can aliases expand, and the checked loader runs
_ANCHOR = re.compile(r"(?:^|[\s\[{,])&[^\s\[\]{},]")


def load_yaml_document(text: str) -> Any:
    """One YAML document with aliases and nesting bounded (DumpLimitError past a limit)."""
    loader = _CheckedLoader if _ANCHOR.search(text) else _FastLoader
    return yaml.load(text, Loader=loader)  # noqa: S506 - both are safe loaders


RUN_KINDS = kinds.RUN_KIND_NAMES  # the kinds a dump's objects are stored as; anything else is named and skipped
NOT_A_RUN = "is not " + " or ".join(kinds.RUN_KIND_NAMES)
_DOC_SEP = re.compile(r"^---(?:[ \t].*)?$|^\.\.\.[ \t]*$", re.MULTILINE)


@dataclass
class Problem:
    """Something in a dump that was not stored: `what` names it, `why` says why."""

    what: str
    why: str


@dataclass
class DumpItem:
    """A run object found in a dump (not validated beyond being a run-kind mapping)."""

    obj: dict
    where: str  # "document 3" / "item 12 of document 1": to name it in reports


describe = describe_object  # how reports name an object: `PipelineRun ci/build-42`

def _documents(text: str) -> Iterator[tuple[int, int, str]]:
    """(document number from 1, line number of the chunk's first line, text) of each YAML document."""
    pos, n = 0, 0
    bounds = [(m.start(), m.end()) for m in _DOC_SEP.finditer(text)] + [(len(text), len(text))]
    for start, end in bounds:
        chunk = text[pos:start]
        if chunk.strip():
            n += 1
            yield n, text.count("\n", 0, pos) + 1, chunk
        pos = end


def _walk(obj: Any, where: str, out_items: list[DumpItem], problems: list[Problem]) -> None:
    """Unwrap Lists; keep run-kind mappings; name everything else as a problem."""
    if obj is None:
        return
    if isinstance(obj, list):  # a bare JSON array of objects
        for i, item in enumerate(obj, 1):
            _walk(item, f"item {i} of {where}", out_items, problems)
        return
    if not isinstance(obj, dict):
        problems.append(Problem(where, f"not a Kubernetes object but a {type(obj).__name__}"))
        return
    kind = obj.get("kind")
    if isinstance(kind, str) and (kind == "List" or kind.endswith("List")) and "items" in obj:
        items = obj.get("items") or []
        if not isinstance(items, list):
            problems.append(Problem(f"{kind} in {where}", f"items is a {type(items).__name__}, not a list"))
            return
        for i, item in enumerate(items, 1):
            _walk(item, f"item {i} of {where}", out_items, problems)
        return
    if kind not in RUN_KINDS:
        problems.append(Problem(describe(obj), f"kind {kind!r} {NOT_A_RUN} ({where})"))
        return
    out_items.append(DumpItem(obj, where))


def read_dump(text: str) -> tuple[list[DumpItem], list[Problem]]:
    """All run objects in a dump's text, and a Problem for everything else."""
    items: list[DumpItem] = []
    problems: list[Problem] = []
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = _NOT_JSON
        if parsed is not _NOT_JSON:
            _walk(parsed, "the JSON document", items, problems)
            return items, problems
        # not one JSON value: maybe YAML (JSON is YAML), maybe broken JSON; fall through
    docs = list(_documents(text))
    for n, line, chunk in docs:
        where = f"document {n}" if len(docs) > 1 else "the document"
        try:
            parsed = load_yaml_document(chunk)
        except yaml.YAMLError as exc:
            problems.append(Problem(f"{where} (line {line + _err_line(exc)})", f"malformed YAML: {_yaml_reason(exc)}"))
            continue
        except limits.DumpLimitError as exc:
            problems.append(Problem(f"{where} (line {line})", str(exc)))
            continue
        except RecursionError:
            problems.append(Problem(f"{where} (line {line})", limits.DEEP_REASON))
            continue
        _walk(parsed, where, items, problems)
    return items, problems


_NOT_JSON = object()


def _err_line(exc: yaml.YAMLError) -> int:
    mark = getattr(exc, "problem_mark", None)
    return int(mark.line) if mark is not None else 0


def _yaml_reason(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    text = " ".join(p for p in (context, problem) if p) or str(exc).splitlines()[0]
    return text.strip()
