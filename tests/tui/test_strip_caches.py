"""Strips make their caches on first use (tui/strip_caches.py) and draw exactly as Textual's."""

from __future__ import annotations

import gc

from rich.segment import Segment
from rich.style import Style
from textual.cache import FIFOCache
from textual.strip import Strip

from tekton_results_tui.tui import strip_caches


def _ops(strip: Strip) -> list[object]:
    """What the compositor asks of a Strip, twice (the second time from its caches)."""
    out: list[object] = []
    for _ in range(2):
        out += [
            strip.crop(2, 9).text, strip.crop(0).text, [s.text for s in strip.divide([3, 7, 30])],
            strip.crop_extend(1, 40, Style(bgcolor="red")).text, strip.extend_cell_length(40).cell_length,
            strip.apply_style(Style(bold=True)).render(_console()), strip.render(_console()),
            strip.simplify().text, strip.apply_offsets(1, 2).text,
        ]
    return out


def _console():  # noqa: ANN202
    from rich.console import Console

    return Console(width=80, color_system="truecolor", legacy_windows=False)


def test_a_strip_makes_no_cache_until_asked_and_draws_as_before() -> None:
    segs = [Segment("hello ", Style(color="green")), Segment("world", Style(bold=True)), Segment(" !", None)]
    before = _ops(Strip(segs))  # Textual's own Strip (or already installed: compared below by content)
    strip_caches.install()
    assert strip_caches.installed()
    fresh = Strip(segs)
    tracked = [o for o in gc.get_referents(fresh) if isinstance(o, FIFOCache)]
    assert tracked == []  # Textual 8.2.8 gave it seven FIFOCaches here
    assert _ops(fresh) == before
    assert isinstance(fresh._crop_cache, FIFOCache) and len(fresh._crop_cache) >= 1  # made on use, kept
    assert fresh._crop_cache is fresh._crop_cache
    assert fresh._divide_cache._maxsize == 4 and fresh._style_cache._maxsize == 16


def test_install_twice_changes_nothing() -> None:
    strip_caches.install()
    first = Strip.__dict__["_crop_cache"]
    strip_caches.install()
    assert Strip.__dict__["_crop_cache"] is first


def test_a_strip_with_its_caches_copies_and_pickles() -> None:
    import copy
    import pickle

    strip_caches.install()
    strip = Strip([Segment("abc def", Style(bold=True))])
    strip.crop(1, 4)
    for other in (copy.copy(strip), pickle.loads(pickle.dumps(strip))):
        assert other.text == strip.text and other.crop(1, 4).text == "bc "
