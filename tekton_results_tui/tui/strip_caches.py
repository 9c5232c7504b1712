"""Textual's `Strip` makes its seven small caches when they are first used, not each time one is made.

Every line Textual draws passes through several Strips (the widget's line, its crops, the compositor's
chops and filters), and Textual 8.2.8 gives each new Strip seven `FIFOCache`s up front, most never used:
profiled while filters were applied at 1.2M records, 18.5k Strips made 130k caches, the largest single
cost of the UI thread's drawing. They also fed the collector: each cache is a tracked object, a Strip
often holds itself in one (crop of its whole width), so they die only in the middle generation's passes,
which took 40-100 ms in a filter keystroke's window. `install()` makes each cache a property that creates
its `FIFOCache` (same sizes) in the Strip's own slot at its first use; everything else is Textual's.
"""

from __future__ import annotations

from typing import Any

import textual
from textual.cache import FIFOCache
from textual.strip import Strip

__all__ = ["install", "installed"]

PATCHED_TEXTUAL = "8.2.8"  # the Strip.__init__ this replaces (pyproject.toml pins textual to it)
CACHE_SIZES = {  # Strip.__init__'s caches in Textual 8.2.8, with their sizes
    "_divide_cache": 4, "_crop_cache": 16, "_style_cache": 16, "_filter_cache": 4,
    "_line_length_cache": 4, "_crop_extend_cache": 4, "_offsets_cache": 4,
}


def _lazy(slot: Any, size: int) -> property:
    """A property over the slot `slot`: its FIFOCache, made on the first read."""

    def get(strip: Strip) -> FIFOCache:
        try:
            return slot.__get__(strip, Strip)
        except AttributeError:  # not used yet on this Strip
            cache: FIFOCache = FIFOCache(size)
            slot.__set__(strip, cache)
            return cache

    return property(get, slot.__set__, slot.__delete__)  # set/delete as the slot's own (copy, pickle)


def _init(self: Strip, segments: Any, cell_length: int | None = None) -> None:
    """Strip.__init__ (Textual 8.2.8) without making the caches."""
    self._segments = list(segments)
    self._cell_length = cell_length
    self._render_cache = None
    self._link_ids = None
    self._cell_count = None


def installed() -> bool:
    return Strip.__init__ is _init


def install() -> None:
    """Only on the Textual whose Strip this is (another release keeps its own)."""
    if installed() or textual.__version__ != PATCHED_TEXTUAL:
        return
    for name, size in CACHE_SIZES.items():
        slot = Strip.__dict__.get(name)
        if slot is None or isinstance(slot, property):
            return  # not the Strip this was written for: leave it alone
    for name, size in CACHE_SIZES.items():
        setattr(Strip, name, _lazy(Strip.__dict__[name], size))
    Strip.__init__ = _init  # type: ignore[method-assign]
