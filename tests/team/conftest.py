"""Fixtures of the end-to-end team tests (defined in team_e2e.py, with their helpers)."""

from team_e2e import make_sim, spawn  # noqa: F401 - fixtures
