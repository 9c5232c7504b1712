"""The percentile rule: percentile_cont's linear interpolation, from ranks or from a sorted list."""

from __future__ import annotations

import random
import statistics

import pytest

from tekton_results_tui.insights.percentiles import from_ranks, percentile, position


def test_known_values() -> None:
    assert percentile([], 50) is None and from_ranks(0, {}, 50) is None
    assert percentile([7], 95) == 7.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([100, 200, 300], 95) == 290.0
    assert position(101, 95) == (95, 0)


def test_from_ranks_agrees_with_the_sorted_list_and_python() -> None:
    rng = random.Random(5)
    for n in (2, 3, 10, 21, 100, 257):
        vals = sorted(rng.randrange(0, 10_000) for _ in range(n))
        for p in (50, 95):
            lo, _ = position(n, p)
            at = {i: vals[i] for i in (lo, lo + 1, n - 1) if i < n}
            assert from_ranks(n, at, p) == percentile(vals, p)
            assert percentile(vals, p) == pytest.approx(statistics.quantiles(vals, n=100, method="inclusive")[p - 1])


def test_integer_arithmetic_gives_the_fraction_rule_float() -> None:
    """from_ranks computes in integers; its float is the one the exact rational rounds to, for any values
    (huge, negative, equal neighbours) and every percent."""
    from fractions import Fraction

    rng = random.Random(11)
    for _ in range(3000):
        n = rng.randrange(1, 500)
        p = rng.randrange(0, 101)
        span = rng.choice((10, 10**6, 2**62, 10**30))
        a, b = sorted((rng.randrange(-span, span), rng.randrange(-span, span)))
        lo, frac = position(n, p)
        at = {lo: a, lo + 1: b}
        assert from_ranks(n, at, p) == float(Fraction(a) + (b - a) * frac)


def test_ranks_selected_from_sorted_runs_equal_one_sort_of_every_value() -> None:
    """store/insights_reads.runs_ranks: ranks selected from sorted runs (long runs) or one sort of all (short
    ones), with loose values besides, equal the ranks of every value sorted; duplicates within and across runs,
    negative values, single values, a run of one repeated value."""
    from array import array

    from tekton_results_tui.store.insights_reads import _RUN_MIN, runs_ranks, sorted_ranks

    rng = random.Random(13)
    selected = 0
    for case in range(400):
        runs = []
        for _ in range(rng.randrange(1, 12)):
            size = rng.choice((1, 2, 5, _RUN_MIN, 3 * _RUN_MIN, 700))
            span = rng.choice((1, 3, 50, 5000, 2**40))
            base = rng.randrange(-span, span)
            runs.append(array("q", sorted(base + rng.randrange(span) for _ in range(size))))
        loose = array("q", (rng.randrange(-100, 6000) for _ in range(rng.choice((0, 0, 1, 30)))))
        every = array("q", loose)
        for a in runs:
            every.extend(a)
        n = len(every)
        selected += n >= _RUN_MIN * (len(runs) + (1 if loose else 0)) and len(runs) + (1 if loose else 0) > 1
        want = sorted_ranks(every, (50, 95))
        got = runs_ranks([array("q", a) for a in runs], array("q", loose) if loose else None, (50, 95))
        assert got is not None and got.n == want.n == n
        assert got.at == want.at, case
        for p in (50, 95):
            assert from_ranks(got.n, got.at, p) == percentile(sorted(every), p)
    assert selected > 100  # the selection path itself was exercised, not only the sort
    assert runs_ranks([], None, (50,)) is None and runs_ranks([array("q")], array("q"), (50,)) is None
