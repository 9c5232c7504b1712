"""The one percentile rule statistics use: linear interpolation between closest ranks (percentile_cont).

For n sorted values and a percent p, the position is (n-1)*p/100; the value is the one at its
whole part, plus the fraction of the way to the next. It equals PostgreSQL's `percentile_cont(p/100)`
and numpy's default. Positions are computed in integers and fractions so the database (which
fetches the two values at the position's ranks, store/insights_reads.py) and a brute-force check
over the sorted values give the same float. The arithmetic is in integers: `(v_lo*100 + (v_hi-v_lo)*r) / 100`
is Python's correctly rounded integer division, the float `Fraction` gives (Fraction.__float__ divides its
integers the same way) without building Fraction objects (a statistic computes thousands of percentiles).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Mapping, Sequence


def position(n: int, percent: int) -> tuple[int, Fraction]:
    """(0-based rank at or below the percentile, fraction of the way to the next rank)."""
    k = (n - 1) * int(percent)
    return k // 100, Fraction(k % 100, 100)


def from_ranks(n: int, at: Mapping[int, int] | Sequence[int], percent: int) -> float | None:
    """The percentile of a group of `n` values from the values at the ranks it needs (`at`: rank -> value)."""
    if n <= 0:
        return None
    k = (n - 1) * int(percent)
    lo, r = divmod(k, 100)
    v = int(at[lo])
    if r:
        return (v * 100 + (int(at[lo + 1]) - v) * r) / 100
    return float(v)


def percentile(sorted_values: Sequence[int], percent: int) -> float | None:
    """The same rule over an in-memory sorted list (tests, and small per-run sets such as ETAs)."""
    n = len(sorted_values)
    if n == 0:
        return None
    return from_ranks(n, sorted_values, percent)
