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
