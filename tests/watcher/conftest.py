"""Fixtures: a simulated cluster over HTTP, a fresh SQLite history, and watcher services stopped at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tekton_results_tui.settings import Settings
from tekton_results_tui.sim import SimCluster
from tekton_results_tui.store.db import open_database
from tekton_results_tui.store.history import History
from tekton_results_tui.watcher.service import WatcherService


@pytest.fixture
def sim() -> Iterator[SimCluster]:
    s = SimCluster(compaction_window=10_000, bookmark_interval_s=0.2).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def kubeconfig(sim: SimCluster, tmp_path: Path) -> str:
    return sim.write_kubeconfig(str(tmp_path / "kubeconfig"), context="sim")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


@pytest.fixture
def history(db_path: Path) -> Iterator[History]:
    db = open_database(f"sqlite:///{db_path}")
    yield History(db)
    db.close()


@pytest.fixture
def make_service(kubeconfig: str, history: History) -> Iterator[Callable[..., WatcherService]]:
    """make_service(settings overrides..., service kwargs...) -> a started-on-demand service, stopped afterwards."""
    made: list[WatcherService] = []
    setting_names = set(Settings.__dataclass_fields__)

    def make(**kw: Any) -> WatcherService:
        s = Settings(db_url="unused", kubeconfig=kubeconfig)
        svc_kw = {}
        for k, v in kw.items():
            if k in setting_names:
                setattr(s, k, v)
            else:
                svc_kw[k] = v
        svc_kw.setdefault("read_timeout_s", 5.0)
        svc_kw.setdefault("backoff_cap_s", 2.0)
        svc = WatcherService(s, svc_kw.pop("history", history), **svc_kw)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.stop(5.0)
