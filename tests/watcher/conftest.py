"""Fixtures: a simulated cluster over HTTP, a fresh SQLite history, and watcher services stopped at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tekton_results_tui.settings import Settings
from tekton_results_tui.store.history import History
from tekton_results_tui.watcher.service import WatcherService

from simkit import db_path, history, kubeconfig, sim  # noqa: F401 - fixtures


@pytest.fixture
def make_service(kubeconfig: str, history: History) -> Iterator[Callable[..., WatcherService]]:
    """make_service(settings overrides..., service kwargs...) -> a started-on-demand service, stopped afterwards."""
    made: list[WatcherService] = []
    setting_names = Settings.names()

    def make(**kw: Any) -> WatcherService:
        s = Settings.of(db_url="unused", kubeconfig=kubeconfig, read_timeout_s=5.0, backoff_cap_s=2.0)
        svc_kw = {}
        for k, v in kw.items():
            if k in setting_names:
                s = s.replace(**{k: v})
            else:
                svc_kw[k] = v
        svc = WatcherService(s, svc_kw.pop("history", history), **svc_kw)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.stop(5.0)
