"""Objects, the one global resourceVersion counter, and the bounded change history.

Each object is kept as its JSON bytes (serialized once per write) plus the few
fields the server filters on, so 100k runs fit in memory and lists/watches copy no
dicts. The history of the last `compaction_window` changes doubles as MVCC: a paged
list at snapshot rv S is the current state with every later change undone, and a
watch from rv R replays history after R. Anything older is compacted: 410 Expired.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import threading
import time
import uuid as uuidlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from tekton_results_tui.kinds import PIPELINE_RUN, RUN_KINDS
from tekton_results_tui.sim.errors import ApiError, already_exists, bad_request, conflict, expired, not_found

GROUP = PIPELINE_RUN.group  # every run kind is Tekton's
VERSION = PIPELINE_RUN.version  # the group's preferred version
KINDS = {k.plural: k.name for k in RUN_KINDS}  # resource -> kind
API_VERSION = {k.plural: k.api_version for k in RUN_KINDS}  # resource -> the one apiVersion it is served and stored as


def _served() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for k in RUN_KINDS:
        assert k.group == GROUP, f"{k.name}: the simulated cluster serves one API group"
        out[k.version] = (*out.get(k.version, ()), k.plural)
    return out


# version -> the resources served there, in registry order (v1 first: the group's preferred version).
# Each kind is served at its watched version only: the simulated cluster converts nothing.
SERVED: dict[str, tuple[str, ...]] = _served()
POD_KINDS = frozenset(k.plural for k in RUN_KINDS if k.step_logs)  # runs that get a pod (podName in status)
Key = tuple[str, str]  # (namespace, name)


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def rfc3339(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@dataclass(slots=True)
class Entry:
    """One stored object version: bytes plus what lists, selectors and the GC need."""

    rv: int
    data: bytes
    labels: dict[str, str]
    uid: str
    owners: tuple[str, ...]
    finalizing: bool  # has deletionTimestamp

    def obj(self) -> dict[str, Any]:
        return json.loads(self.data)


@dataclass(slots=True)
class Change:
    """A history record: what a watcher sees, and what undoes it for a snapshot read."""

    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    kind: str
    key: Key
    entry: Entry  # the object at rv (for DELETED: last state, rv bumped)
    prev: Entry | None


_RV = itemgetter(0)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """The last live version of a run: what a watcher must have stored, even if the run is gone by now."""

    kind: str  # resource (plural)
    key: Key
    rv: int  # resourceVersion of its last live state (before a delete: the version the DELETED event undoes)
    deleted: bool


def _entry_from(obj: dict[str, Any], rv: int) -> Entry:
    md = obj["metadata"]
    owners = tuple(o.get("uid", "") for o in md.get("ownerReferences") or () if isinstance(o, dict))
    return Entry(rv, dumps(obj), dict(md.get("labels") or {}), md.get("uid", ""), owners,
                 bool(md.get("deletionTimestamp")))


def encode_continue(rv: int, key: Key) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": f"{key[0]}/{key[1]}\u0000"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_continue(token: str) -> tuple[int, Key]:
    try:
        pad = "=" * (-len(token) % 4)
        raw = json.loads(base64.urlsafe_b64decode(token + pad))
        rv = int(raw["rv"])
        start = str(raw["start"])
        if raw.get("v") != "meta.k8s.io/v1" or not start.endswith("\u0000") or "/" not in start:
            raise ValueError
        ns, name = start[:-1].split("/", 1)
        return rv, (ns, name)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise bad_request(f"continue key is not valid: {token[:40]}") from None


class Store:
    """Thread-safe object store. All writes go through `_commit`, which bumps the rv once."""

    def __init__(self, compaction_window: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.clock = clock
        self.window = max(1, int(compaction_window))
        self.rv = 1
        self.min_valid_rv = 1  # snapshot/watch from R is served iff R >= min_valid_rv
        self.objs: dict[str, dict[Key, Entry]] = {k: {} for k in KINDS}
        self.keys: dict[str, list[Key]] = {k: [] for k in KINDS}
        self.history: list[Change] = []
        self._hist_rvs: list[int] = []
        self.by_uid: dict[str, tuple[str, Key]] = {}
        self.children: dict[str, set[tuple[str, Key]]] = {}
        self.pods: dict[Key, tuple[str, Key]] = {}  # (ns, podName) -> (resource, key) of the run it belongs to
        self.namespaces: dict[str, str] = {}  # name -> creationTimestamp
        self.closed = False
        # uid -> LedgerEntry of every run written while the ledger is on (None = off): it outlives the window
        # and the objects, so a test can ask whether a run created and deleted between two looks was stored
        self.ledger: dict[str, LedgerEntry] | None = None

    # ---------- indexes ----------
    def ensure_namespace(self, ns: str) -> None:
        if ns not in self.namespaces:
            self.namespaces[ns] = rfc3339(self.clock())

    def _index(self, kind: str, key: Key, old: Entry | None, new: Entry | None, obj: dict[str, Any] | None) -> None:
        if old is not None:
            for o in old.owners:
                s = self.children.get(o)
                if s is not None:
                    s.discard((kind, key))
                    if not s:
                        del self.children[o]
        if new is None:
            if old is not None:
                self.by_uid.pop(old.uid, None)
            keys = self.keys[kind]
            i = bisect_left(keys, key)
            if i < len(keys) and keys[i] == key:
                del keys[i]
            if kind in POD_KINDS and obj is not None:
                pod = (obj.get("status") or {}).get("podName")
                if isinstance(pod, str) and self.pods.get((key[0], pod)) == (kind, key):
                    del self.pods[(key[0], pod)]
            return
        if old is None:
            keys = self.keys[kind]
            i = bisect_left(keys, key)
            if i >= len(keys) or keys[i] != key:
                keys.insert(i, key)
        self.by_uid[new.uid] = (kind, key)
        for o in new.owners:
            self.children.setdefault(o, set()).add((kind, key))
        if kind in POD_KINDS and obj is not None:
            pod = (obj.get("status") or {}).get("podName")
            if isinstance(pod, str) and pod:
                self.pods[(key[0], pod)] = (kind, key)

    def _commit(self, kind: str, key: Key, obj: dict[str, Any] | None, typ: str,
                final: dict[str, Any] | None = None) -> Entry:
        """Write obj (or delete with `final` as the last state), bump rv, record history, wake watchers."""
        with self.cond:
            self.rv += 1
            rv = self.rv
            cur = self.objs[kind].get(key)
            body = obj if obj is not None else final
            assert body is not None
            body["metadata"]["resourceVersion"] = str(rv)
            entry = _entry_from(body, rv)
            if obj is None:
                self.objs[kind].pop(key, None)
                self._index(kind, key, cur, None, body)
            else:
                self.objs[kind][key] = entry
                self._index(kind, key, cur, entry, obj)
            self.history.append(Change(rv, typ, kind, key, entry, cur))
            if self.ledger is not None:
                live = cur if obj is None else entry
                self.ledger[entry.uid] = LedgerEntry(kind, key, live.rv if live is not None else rv, obj is None)
            self._hist_rvs.append(rv)
            self._trim()
            self.cond.notify_all()
            return entry

    def _trim(self) -> None:
        """Drop the changes beyond the window; a watch or continue from before them gets 410 (lock held)."""
        over = len(self.history) - self.window
        if over > 0:
            self.min_valid_rv = max(self.min_valid_rv, self.history[over - 1].rv)
            del self.history[:over]
            del self._hist_rvs[:over]

    def set_window(self, changes: int) -> None:
        """Keep only the last `changes` changes for watches and continue tokens from now on (older: 410)."""
        with self.cond:
            self.window = max(1, int(changes))
            self._trim()
            self.cond.notify_all()

    def compact(self, rv: int | None = None) -> None:
        """Make every rv <= `rv` too old, and write the compaction key as the real compactor does (rv + 1)."""
        with self.cond:
            upto = self.rv if rv is None else min(int(rv), self.rv)
            self.min_valid_rv = max(self.min_valid_rv, upto + 1)
            cut = bisect_right(self._hist_rvs, upto)
            del self.history[:cut]
            del self._hist_rvs[:cut]
            self.rv += 1
            self.cond.notify_all()

    # ---------- reads ----------
    def get(self, kind: str, ns: str, name: str) -> Entry | None:
        with self.lock:
            return self.objs[kind].get((ns, name))

    def changes_after(self, rv: int) -> tuple[list[Change], int]:
        """History after rv and the current rv; 410 if part of it was compacted."""
        with self.lock:
            if rv < self.min_valid_rv:
                raise ApiError(410, f"too old resource version: {rv} ({self.min_valid_rv})", "Expired")
            i = bisect_right(self._hist_rvs, rv)
            return self.history[i:], self.rv

    def list_page(self, kind: str, ns: str | None, limit: int, start: Key | None, snapshot: int | None,
                  accept: Callable[[Key, Entry], bool] | None) -> tuple[list[Entry], int, Key | None, int | None]:
        """One page in key order at snapshot rv (None = now): (entries, rv, last key if more, remaining)."""
        with self.lock:
            cur_keys = self.keys[kind]
            objs = self.objs[kind]
            if snapshot is None or snapshot >= self.rv:
                snap = self.rv
                overrides: dict[Key, Entry | None] = {}
            else:
                if snapshot < self.min_valid_rv:
                    raise ApiError(410, "The resourceVersion for the provided list is too old.", "Expired")
                snap = snapshot
                overrides = {}
                for ch in self.history[bisect_right(self._hist_rvs, snap):]:
                    if ch.kind == kind and ch.key not in overrides:
                        overrides[ch.key] = ch.prev
            lo_key: Key = start if start is not None else ((ns, "") if ns is not None else ("", ""))
            i = bisect_right(cur_keys, lo_key) if start is not None else bisect_left(cur_keys, lo_key)
            extra = sorted(k for k, e in overrides.items() if e is not None and k not in objs
                           and (k > lo_key if start is not None else k >= lo_key))
            src: Iterator[Key] = heapq.merge((cur_keys[j] for j in range(i, len(cur_keys))), extra)
            out: list[Entry] = []
            last: Key | None = None
            more = False
            for k in src:
                if ns is not None and k[0] != ns:
                    break
                e = overrides[k] if k in overrides else objs.get(k)
                if e is None:
                    continue
                if accept is not None and not accept(k, e):
                    continue
                if limit and len(out) >= limit:
                    more = True
                    break
                out.append(e)
                last = k
            remaining = None
            if more and accept is None and not overrides:
                if ns is None:
                    remaining = len(cur_keys) - bisect_right(cur_keys, last)  # type: ignore[arg-type]
                else:
                    remaining = bisect_left(cur_keys, (ns, "\U0010ffff")) - bisect_right(cur_keys, last)  # type: ignore[arg-type]
            return out, snap, (last if more else None), remaining

    # ---------- writes (dict in, dict out) ----------
    def create(self, kind: str, obj: dict[str, Any], keep_status: bool = True) -> dict[str, Any]:
        obj = json.loads(dumps(obj))
        md = obj.setdefault("metadata", {})
        if not isinstance(md, dict):
            raise bad_request("metadata must be an object")
        ns = md.get("namespace") or "default"
        name = md.get("name")
        if not name and md.get("generateName"):
            name = md["generateName"] + uuidlib.uuid4().hex[:5]
        if not name or not isinstance(name, str):
            raise ApiError(422, f'{KINDS[kind]}.{GROUP} "" is invalid: metadata.name: Required value: name or generateName is required',
                           "Invalid", {"kind": KINDS[kind], "group": GROUP,
                                       "causes": [{"reason": "FieldValueRequired", "message": "Required value: name or generateName is required", "field": "metadata.name"}]})
        now = self.clock()
        with self.lock:
            if (ns, name) in self.objs[kind]:
                raise already_exists(kind, GROUP, name)
            self.ensure_namespace(ns)
            md.update(name=name, namespace=ns, uid=str(uuidlib.uuid4()), generation=1,
                      creationTimestamp=rfc3339(now))
            md.pop("deletionTimestamp", None)
            out = {"apiVersion": API_VERSION[kind], "kind": KINDS[kind], "metadata": md}
            for k, v in obj.items():
                if k not in out:
                    out[k] = v
            if not keep_status:
                out.pop("status", None)
            self._commit(kind, (ns, name), out, "ADDED")
            return out

    def update(self, kind: str, obj: dict[str, Any], *, subresource: str | None = None,
               check_rv: bool = True, main_keeps_status: bool = False) -> dict[str, Any]:
        """Replace an object; for the main resource status is kept, for /status only status changes."""
        md = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(md, dict) or not md.get("name"):
            raise bad_request("the name of the object is required")
        ns = md.get("namespace") or "default"
        name = md["name"]
        with self.lock:
            cur = self.objs[kind].get((ns, name))
            if cur is None:
                raise not_found(kind, GROUP, name)
            old = cur.obj()
            want_rv = md.get("resourceVersion")
            if check_rv and want_rv not in (None, "") and str(want_rv) != str(cur.rv):
                raise conflict(kind, GROUP, name, "the object has been modified; please apply your changes to the latest version and try again")
            if subresource == "status":
                new = dict(old)
                if "status" in obj:
                    new["status"] = obj["status"]
                else:
                    new.pop("status", None)
            else:
                new = json.loads(dumps(obj))
                if not main_keeps_status:
                    if "status" in old:
                        new["status"] = old["status"]
                    else:
                        new.pop("status", None)
                nmd = new["metadata"]
                omd = old["metadata"]
                for k in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"):
                    if k in omd:
                        nmd[k] = omd[k]
                    else:
                        nmd.pop(k, None)
                nmd["namespace"] = ns
                new["apiVersion"], new["kind"] = API_VERSION[kind], KINDS[kind]
                if omd.get("deletionTimestamp"):
                    added = set(nmd.get("finalizers") or ()) - set(omd.get("finalizers") or ())
                    if added:
                        raise ApiError(422, f'{KINDS[kind]}.{GROUP} "{name}" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers {sorted(added)}',
                                       "Invalid", {"name": name, "group": GROUP, "kind": KINDS[kind]})
                if new.get("spec") != old.get("spec"):
                    nmd["generation"] = int(omd.get("generation") or 1) + 1
            new["metadata"]["resourceVersion"] = str(cur.rv)
            if new == old:
                return old  # a no-op write does not bump the rv, as in the real server
            if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
                self._commit(kind, (ns, name), None, "DELETED", final=new)
                self._gc(kind, new, "Background")
                return new
            self._commit(kind, (ns, name), new, "MODIFIED")
            return new

    def delete(self, kind: str, ns: str, name: str, propagation: str = "Background",
               preconditions: dict[str, Any] | None = None) -> dict[str, Any]:
        with self.lock:
            cur = self.objs[kind].get((ns, name))
            if cur is None:
                raise not_found(kind, GROUP, name)
            pre = preconditions or {}
            if pre.get("uid") not in (None, "") and pre["uid"] != cur.uid:
                raise conflict(kind, GROUP, name, f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {cur.uid}")
            if pre.get("resourceVersion") not in (None, "") and str(pre["resourceVersion"]) != str(cur.rv):
                raise conflict(kind, GROUP, name, f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, ResourceVersion in object meta: {cur.rv}")
            obj = cur.obj()
            md = obj["metadata"]
            if md.get("finalizers"):
                if not md.get("deletionTimestamp"):
                    md["deletionTimestamp"] = rfc3339(self.clock())
                    md["deletionGracePeriodSeconds"] = 0
                    self._commit(kind, (ns, name), obj, "MODIFIED")
                    self._gc(kind, obj, propagation)
                return obj
            if propagation == "Foreground":
                self._gc(kind, obj, propagation)
            self._commit(kind, (ns, name), None, "DELETED", final=obj)
            if propagation != "Foreground":
                self._gc(kind, obj, propagation)
            return obj

    def _gc(self, kind: str, parent: dict[str, Any], propagation: str) -> None:
        """The garbage collector, run synchronously: dependents go with their owner unless orphaned."""
        uid = parent["metadata"]["uid"]
        for ckind, ckey in sorted(self.children.get(uid, ())):
            cur = self.objs[ckind].get(ckey)
            if cur is None:
                continue
            if propagation == "Orphan":
                child = cur.obj()
                refs = [r for r in child["metadata"].get("ownerReferences") or () if r.get("uid") != uid]
                if refs:
                    child["metadata"]["ownerReferences"] = refs
                else:
                    child["metadata"].pop("ownerReferences", None)
                self._commit(ckind, ckey, child, "MODIFIED")
            else:
                try:
                    self.delete(ckind, ckey[0], ckey[1], "Background")
                except ApiError:
                    pass

    def bulk_load(self, kind: str, objs: list[dict[str, Any]], sort: bool = True) -> None:
        """Fast path for preload: one lock, each object serialized once, keys sorted once."""
        with self.cond:
            table = self.objs[kind]
            for obj in objs:
                self.rv += 1
                md = obj["metadata"]
                md["resourceVersion"] = str(self.rv)
                key = (md["namespace"], md["name"])
                if key in table:
                    raise already_exists(kind, GROUP, md["name"])
                self.ensure_namespace(key[0])
                e = _entry_from(obj, self.rv)
                table[key] = e
                self.by_uid[e.uid] = (kind, key)
                for o in e.owners:
                    self.children.setdefault(o, set()).add((kind, key))
                if kind in POD_KINDS:
                    pod = (obj.get("status") or {}).get("podName")
                    if pod:
                        self.pods[(key[0], pod)] = (kind, key)
                self.history.append(Change(self.rv, "ADDED", kind, key, e, None))
                if self.ledger is not None:
                    self.ledger[e.uid] = LedgerEntry(kind, key, self.rv, False)
                self._hist_rvs.append(self.rv)
            self._trim()
            if sort:
                self.keys[kind] = sorted(table)
            self.cond.notify_all()

    def resort(self) -> None:
        with self.lock:
            for kind, table in self.objs.items():
                self.keys[kind] = sorted(table)
