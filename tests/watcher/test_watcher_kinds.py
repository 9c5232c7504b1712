"""Every registry kind is watched; a kind the server does not serve (an older Tekton without CustomRuns)
degrades clearly: said once, the other kinds watched and the watcher LIVE."""

from __future__ import annotations

import logging

import pytest

from tekton_results_tui.kinds import RUN_KINDS
from tekton_results_tui.watcher.kube import KubeError
from tekton_results_tui.watcher.service import lease_name
from tekton_results_tui.watcher.status import LIVE

from .helpers import converged, pr, wait_for


def test_an_informer_per_registry_kind(sim, make_service):
    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    assert sorted(i.plural for i in svc._informers) == sorted(k.plural for k in RUN_KINDS)


def test_a_kind_the_server_does_not_serve_is_said_once_and_the_others_are_watched(sim, make_service, caplog):
    caplog.set_level(logging.WARNING, logger="tekton_results_tui.watcher")
    sim.faults.http_error(404, times=10**6, verb="list", resource="customruns")
    svc = make_service(capture_logs=False, capture_events=False, annotate=False, relist_interval_s=0.2)
    svc.start()
    wait_for(lambda: svc.status().state == LIVE, what="live without customruns")
    assert "customruns.tekton.dev is not served" in (svc.status().reason or ""), svc.status()
    sim.create("pipelineruns", pr("still-watched"))
    wait_for(lambda: converged(sim), what="the PipelineRun stored")
    lists = lambda: sum(1 for r in sim.requests if r.resource == "customruns" and r.status == 404)  # noqa: E731
    wait_for(lambda: lists() >= 4, what="customruns looked for again")
    said = [r for r in caplog.records if r.name.endswith("informer") and "not served" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in said]
    assert svc.status().state == LIVE


def test_a_kind_served_later_is_watched_from_then_on(sim, make_service):
    sim.faults.http_error(404, times=3, verb="list", resource="customruns")
    svc = make_service(capture_logs=False, capture_events=False, annotate=False, relist_interval_s=0.2)
    svc.start()
    inf = next(i for i in svc._informers if i.plural == "customruns")
    wait_for(lambda: inf.absent is not None, what="customruns absent at first")
    wait_for(lambda: inf.absent is None and svc.status().state == LIVE and not svc.status().reason,
             what="customruns watched once served")


def test_no_run_kind_served_at_all_fails_the_start_in_one_line(sim, make_service, history):
    for k in RUN_KINDS:
        sim.faults.http_error(404, times=10, verb="list", resource=k.plural)
    svc = make_service(capture_logs=False, capture_events=False, annotate=False)
    with pytest.raises(KubeError) as got:
        svc.start()
    msg = str(got.value)
    assert "is Tekton installed?" in msg and "\n" not in msg
    assert all(k.resource in msg for k in RUN_KINDS)
    assert history.lease(lease_name("sim")) is None  # the failed start let go of the writer lease
