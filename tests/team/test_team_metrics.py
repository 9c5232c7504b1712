"""The operations endpoints of a headless watcher, scraped over loopback HTTP with urllib."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tekton_results_tui.watcher.metrics import MetricsServer, StatusCollector
from tekton_results_tui.watcher.status import LIVE, OFF, RECONNECTING, STANDBY, STARTING, WatcherStatus


class FakeWatcher:
    """Stands in for WatcherService.status(): a snapshot a test can change between scrapes."""

    def __init__(self) -> None:
        self.st = WatcherStatus(state=STARTING, cluster="prod", context="kind-prod", server="https://api:6443")
        self._lock = threading.Lock()

    def set(self, **kw) -> None:
        with self._lock:
            self.st = replace(self.st, **kw)

    def status(self) -> WatcherStatus:
        with self._lock:
            return replace(self.st, counts=dict(self.st.counts))


@pytest.fixture
def served() -> Iterator[tuple[FakeWatcher, MetricsServer]]:
    w = FakeWatcher()
    srv = MetricsServer(0, w.status, host="127.0.0.1")
    srv.start()
    yield w, srv
    srv.stop()


def get(srv: MetricsServer, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def scrape(srv: MetricsServer) -> dict[tuple[str, tuple], float]:
    code, text = get(srv, "/metrics")
    assert code == 200
    out: dict[tuple[str, tuple], float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_counters_move_between_scrapes(served) -> None:
    w, srv = served
    assert srv.port > 0
    m = scrape(srv)
    for name in ("events", "stored", "deleted", "errors"):  # present from the first scrape
        assert m[(f"tekton_results_tui_{name}_total", ())] == 0
    w.set(state=LIVE, connected=True, counts={"events": 120, "stored": 40, "relists": 1})
    m = scrape(srv)
    assert m[("tekton_results_tui_events_total", ())] == 120
    assert m[("tekton_results_tui_stored_total", ())] == 40
    assert m[("tekton_results_tui_relists_total", ())] == 1  # any counts key is exported
    w.set(counts={"events": 500, "stored": 90, "relists": 1, "deleted": 7, "errors": 3,
                  "errors.forbidden": 1, "errors.http_5xx": 2})
    m = scrape(srv)
    assert m[("tekton_results_tui_events_total", ())] == 500
    assert m[("tekton_results_tui_deleted_total", ())] == 7
    assert m[("tekton_results_tui_errors_total", ())] == 3
    assert m[("tekton_results_tui_errors_by_kind_total", (("kind", "forbidden"),))] == 1
    assert m[("tekton_results_tui_errors_by_kind_total", (("kind", "http_5xx"),))] == 2


def test_gauges_backlog_connected_leader_state(served) -> None:
    w, srv = served
    w.set(state=LIVE, connected=True, backlog=17, leader=True, events_per_s=12.5)
    m = scrape(srv)
    assert m[("tekton_results_tui_backlog", ())] == 17
    assert m[("tekton_results_tui_events_per_second", ())] == 12.5
    assert m[("tekton_results_tui_connected", ())] == 1
    assert m[("tekton_results_tui_leader", ())] == 1
    assert m[("tekton_results_tui_state", (("tekton_results_tui_state", "live"),))] == 1
    assert m[("tekton_results_tui_state", (("tekton_results_tui_state", "standby"),))] == 0
    info = [k for k in m if k[0] == "tekton_results_tui_watcher_info"]
    assert dict(info[0][1])["cluster"] == "prod"
    w.set(state=STANDBY, connected=False, leader=False, backlog=0)
    m = scrape(srv)
    assert m[("tekton_results_tui_leader", ())] == 0
    assert m[("tekton_results_tui_connected", ())] == 0
    assert m[("tekton_results_tui_state", (("tekton_results_tui_state", "standby"),))] == 1
    assert any(k[0] == "process_resident_memory_bytes" for k in m)


def test_dict_counts_and_odd_keys() -> None:
    st = WatcherStatus(counts={"errors": {"403": 2, "410": 1}, "HTTP 5xx-retries": 4, "flag": True, "note": "x"})  # type: ignore[dict-item]
    fams = {f.name: f for f in StatusCollector(lambda: st).collect()}
    assert {s.labels["kind"]: s.value for s in fams["tekton_results_tui_errors_by_kind"].samples} == {"403": 2, "410": 1}
    assert fams["tekton_results_tui_http_5xx_retries"].samples[0].value == 4
    assert "tekton_results_tui_flag" not in fams and "tekton_results_tui_note" not in fams  # not numbers


def test_lag_is_now_minus_last_event() -> None:
    st = WatcherStatus(state=LIVE, connected=True)
    col = StatusCollector(lambda: st, clock=lambda: 1000.0)
    assert "tekton_results_tui_lag_seconds" not in {f.name for f in col.collect()}  # no event yet: no lag
    st.last_event_time = 992.5
    fams = {f.name: f for f in col.collect()}
    assert fams["tekton_results_tui_lag_seconds"].samples[0].value == 7.5
    assert fams["tekton_results_tui_last_event_timestamp_seconds"].samples[0].value == 992.5


def test_healthz_flips_when_the_api_is_unreachable(served) -> None:
    w, srv = served
    w.set(state=LIVE, connected=True)
    assert get(srv, "/healthz") == (200, "ok: live\n")
    w.set(state=RECONNECTING, connected=False, reason="cannot reach https://api:6443: connection refused")
    code, body = get(srv, "/healthz")
    assert code == 503 and "connection refused" in body
    w.set(state=LIVE, connected=True, reason=None)
    assert get(srv, "/healthz")[0] == 200
    w.set(state=STANDBY, connected=False)  # a standby replica is healthy: it is not meant to watch
    assert get(srv, "/healthz")[0] == 200


def test_readyz_after_first_list_until_stopped(served) -> None:
    w, srv = served
    code, body = get(srv, "/readyz")
    assert code == 503 and "first list" in body
    w.set(state=LIVE, connected=True)
    assert get(srv, "/readyz")[0] == 200
    w.set(state=RECONNECTING, connected=False)  # a blip after the first list keeps it ready
    assert get(srv, "/readyz")[0] == 200
    w.set(state=OFF, reason="stopped")
    assert get(srv, "/readyz")[0] == 503


def test_standby_is_ready(served) -> None:
    w, srv = served
    w.set(state=STANDBY)
    assert get(srv, "/readyz")[0] == 200


def test_broken_status_and_unknown_paths(served) -> None:
    w, srv = served

    def boom() -> WatcherStatus:
        raise RuntimeError("service gone")

    srv.status_fn = boom
    code, body = get(srv, "/healthz")
    assert code == 503 and "service gone" in body
    assert get(srv, "/metrics")[0] == 500
    assert get(srv, "/nope")[0] == 404


def test_two_servers_in_one_process_and_stop_frees_the_port() -> None:
    a = MetricsServer(0, WatcherStatus, host="127.0.0.1")
    b = MetricsServer(0, WatcherStatus, host="127.0.0.1")
    a.start()
    b.start()
    try:
        assert a.port != b.port
        assert get(a, "/metrics")[0] == 200 and get(b, "/metrics")[0] == 200  # private registries: no clash
    finally:
        a.stop()
        b.stop()
    again = MetricsServer(a.port, WatcherStatus, host="127.0.0.1")
    again.start()  # the port was released
    again.stop()
