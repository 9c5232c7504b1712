"""Live step logs while a TaskRun runs: polled through a PodLogReader over real HTTP (the simulated
cluster and the real kubernetes client), sanitised, stopped when the run finishes and its logs are stored."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tekton_results_tui.store.grouping import format_time
from tekton_results_tui.store.history import Logs, RunUpsert, StepLogData

from .test_detail_data import SIZE, T0, HostApp, fill, open_history, record_of, screen_text, settle, until

sim_mod = pytest.importorskip("tekton_results_tui.sim")


class PodLogs:
    """A PodLogReader (what the TUI needs of the cluster for live logs), here with the real client."""

    def __init__(self, kubeconfig: str) -> None:
        from kubernetes import client, config

        self.api = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))

    def read_pod_log(self, namespace: str, pod: str, container: str) -> str:
        return self.api.read_namespaced_pod_log(pod, namespace, container=container, _request_timeout=5)


@pytest.fixture
def sim(tmp_path: Path):
    cluster = sim_mod.SimCluster().start()
    cluster.kubeconfig = cluster.write_kubeconfig(str(tmp_path / "kubeconfig"))
    yield cluster
    cluster.stop()


async def test_live_log_follows_the_pod_then_stored_log_replaces_it(sqlite_url: str, sim) -> None:
    history = open_history(sqlite_url)
    data = fill(history)
    running = copy.deepcopy(data.live_tr)
    running["metadata"]["resourceVersion"] = "11"
    running["status"]["podName"] = "deploy-pod-1"
    history.apply([RunUpsert(running)])
    sim.set_pod_log("ci", "deploy-pod-1", "step-deploy", "starting\x1b]0;title\x07\n\x1b[33mwaiting\x1b[0m\n")
    app = HostApp(history, pod_logs=PodLogs(sim.kubeconfig))
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane
        pane.show_record(record_of(history, running))
        pane.switch_tab("logs")
        view = pane.views["logs"]
        await until(pilot, lambda: view.lines_view.plain_lines == ["starting", "waiting"])
        assert view.live_source == ("ci", "deploy-pod-1", "step-deploy")
        assert "● live from pod deploy-pod-1" in screen_text(app)
        sim.set_pod_log("ci", "deploy-pod-1", "step-deploy", "starting\nwaiting\ndeployed 1/1\n")
        await until(pilot, lambda: view.lines_view.line_count == 3)
        # the run finishes and the watcher stores its log: the pane switches to the stored copy
        done = copy.deepcopy(running)
        done["metadata"]["resourceVersion"] = "12"
        done["status"]["conditions"][0].update(status="True", reason="Succeeded")
        done["status"]["completionTime"] = format_time(T0)
        done["status"]["steps"][0] = {"name": "deploy", "container": "step-deploy",
                                      "terminated": {"exitCode": 0, "reason": "Completed"}}
        res = history.apply([RunUpsert(done), Logs(done, [StepLogData("deploy", "step-deploy", b"stored copy\n")])])
        changed = history.changes_since(res.seq - 1)
        pane.refresh_from_store({r.id for r in changed.records}, {r.id for r in changed.results})
        await until(pilot, lambda: view.lines_view.plain_lines == ["stored copy"])
        assert view.live_source is None
        assert not [w for w in app.workers if w.group == "detail-logs-live" and not w.is_finished]


async def test_running_taskrun_without_a_watcher_says_so(sqlite_url: str) -> None:
    history = open_history(sqlite_url)
    data = fill(history)
    app = HostApp(history, pod_logs=None)
    async with app.run_test(size=SIZE) as pilot:
        app.pane.show_record(record_of(history, data.live_tr))
        app.pane.switch_tab("logs")
        await settle(pilot)
        assert "live logs come from the watcher, which is off" in screen_text(app)
        assert app.pane.views["logs"].live_source is None
