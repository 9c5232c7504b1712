"""The watcher service offers the TUI exactly the calls its protocol names, typed (no duck-typing)."""

from __future__ import annotations

import inspect
import typing

from tekton_results_tui.tui.cluster import WatcherCalls
from tekton_results_tui.watcher.service import WatcherService


def test_watcher_service_implements_the_tuis_watcher_calls_with_types() -> None:
    calls = [n for n, v in vars(WatcherCalls).items() if not n.startswith("_") and (callable(v) or isinstance(v, property))]
    assert set(calls) >= {"cluster", "status", "read_pod_log", "can_i", "delete_runs"}
    for name in calls:
        impl = getattr(WatcherService, name)
        if isinstance(getattr(WatcherCalls, name), property):
            assert isinstance(impl, property), name
            assert "return" in typing.get_type_hints(impl.fget), name
            continue
        want = list(inspect.signature(getattr(WatcherCalls, name)).parameters)
        have = list(inspect.signature(impl).parameters)
        assert have[: len(want)] == want, (name, have, want)  # extra parameters only after, with defaults
        extra = list(inspect.signature(impl).parameters.values())[len(want):]
        assert all(p.default is not inspect.Parameter.empty for p in extra), name
        hints = typing.get_type_hints(impl)
        assert "return" in hints and set(have[1:]) <= set(hints), (name, hints)
