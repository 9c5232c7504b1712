"""What the watcher's threads hand each other: every queue item, typed.

  informers --RunEvent, Relisted--> writer queue
  writer (after a commit) --FollowUp, AnnotationPatch--> follow-up workers
  follow-up workers --Captured--> writer queue (logs and events are stored by the writer too:
                                  one writer path), whose AnnotationPatch goes back to the workers
                                  once the capture is committed
  WatcherService.stop --STOP--> writer queue

A run is classified once, when the writer takes it (`StoredRun`); the follow-ups and the
cleanup policy get that classification with it and never classify again.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections.abc import Container, Iterable
from dataclasses import dataclass

from tekton_results_tui.kinds import RunKind
from tekton_results_tui.store.grouping import RunInfo
from tekton_results_tui.store.history import Events, Logs

# --- to the writer -------------------------------------------------------------------------


@dataclass(slots=True)
class RunEvent:
    """A run as an informer saw it: listed, added or modified — or deleted from the cluster."""

    obj: dict
    deleted: bool = False


class UidSet(Container[str]):
    """The uids a LIST found, 8 bytes each (a sorted array of their hashes), not a set of strings.

    A relist of 100,000 runs would otherwise hold ~12 MB of uid strings until the writer has compared
    them with the history: the watcher's memory must not grow with the cluster. Two uids with one
    64-bit hash would make a run that left look listed until the next relist: negligible."""

    __slots__ = ("_hashes",)

    def __init__(self, uids: Iterable[str] = ()) -> None:
        self._hashes = array("q", sorted({hash(u) for u in uids}))

    @classmethod
    def merged(cls, pages: Iterable[array]) -> UidSet:
        """From sorted arrays of hashes (one per LIST page), merged without a Python int per uid at once."""
        out = cls()
        out._hashes = array("q", heapq.merge(*pages))
        return out

    @staticmethod
    def page(uids: Iterable[str]) -> array:
        """One page's uids as a sorted array of hashes (for `merged`)."""
        return array("q", sorted(hash(u) for u in uids))

    def __contains__(self, uid: object) -> bool:
        h = hash(uid)
        i = bisect_left(self._hashes, h)
        return i < len(self._hashes) and self._hashes[i] == h

    def __len__(self) -> int:
        return len(self._hashes)


@dataclass(slots=True)
class Relisted:
    """A full LIST of `kind` in `namespace` (None = all) found exactly these uids."""

    kind: RunKind
    namespace: str | None
    uids: Container[str]  # a UidSet from the informer
    rv: int = 0  # the list's resourceVersion: only runs stored at an older one may be marked gone


@dataclass(slots=True)
class Captured:
    """From a follow-up worker: store these logs/events; once they are committed, send `patch`."""

    uid: str
    changes: list[Logs | Events]
    patch: AnnotationPatch | None = None


class Stop:
    """Flush what is pending and end the writer."""

    def __repr__(self) -> str:
        return "STOP"


STOP = Stop()

WriterItem = RunEvent | Relisted | Captured | Stop

# --- what the writer keeps, and hands on --------------------------------------------------------


@dataclass(slots=True)
class StoredRun:
    """A run with its classification (computed once, when the writer took it)."""

    info: RunInfo
    obj: dict

    @property
    def uid(self) -> str:
        return self.info.uid


@dataclass(slots=True)
class AnnotationPatch:
    """Merge these annotations into one run in the cluster."""

    kind: RunKind
    namespace: str
    name: str
    annotations: dict[str, str]


@dataclass(slots=True)
class FollowUp:
    """Network work for a stored final run: read its step logs and/or its events, then maybe annotate it."""

    run: StoredRun  # trimmed: what the reads and the store need (metadata, pod, steps, conditions)
    logs: bool = False
    events: bool = False
    annotations: dict[str, str] | None = None  # wanted on the run once the capture is stored
    attempts: int = 0  # tries that failed on the database (retried a few times, then left to the next relist)
    captures: int = 0  # reads that failed on the API and were tried again later

    @property
    def uid(self) -> str:
        return self.run.info.uid


PoolItem = FollowUp | AnnotationPatch
