"""Start-up checks: bad selectors in one line (never a traceback), the lease released on every start
failure, and one informer per scope."""

from __future__ import annotations

import pytest

from tekton_results_tui.cli import build_parser, main, settings_from_args
from tekton_results_tui.errors import UsageError
from tekton_results_tui.watcher.kube import KubeError
from tekton_results_tui.watcher.service import lease_name

from .helpers import wait_for


def test_a_bad_delete_selector_is_one_usage_line(tmp_path, capsys):
    with pytest.raises(UsageError, match="--delete-selector.*a=\\(b"):
        settings_from_args(build_parser().parse_args(["--delete-after", "1h", "--delete-selector", "a=(b"]))
    code = main(["--headless", "--db", f"sqlite:///{tmp_path / 'h.db'}", "--delete-after", "1h",
                 "--delete-selector", "a=(b"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "--delete-selector" in err


def test_repeated_namespaces_are_one_scope(sim, make_service):
    args = build_parser().parse_args(["-n", "ci", "-n", "dev", "-n", "ci"])
    assert settings_from_args(args).cluster.namespaces == ("ci", "dev")
    svc = make_service(namespaces=["ci", "ci"], capture_logs=False, capture_events=False, annotate=False)
    svc.start()
    assert sorted(i.name for i in svc._informers) == ["customruns@ci", "pipelineruns@ci", "taskruns@ci"]


def test_a_bad_label_selector_fails_the_start_in_one_line_and_frees_the_lease(sim, make_service, history):
    svc = make_service(label_selector="app in (web", capture_logs=False, capture_events=False, annotate=False)
    with pytest.raises(KubeError) as got:
        svc.start()
    msg = str(got.value)
    assert "--label-selector" in msg and "app in (web" in msg and "\n" not in msg
    assert history.lease(lease_name("sim")) is None
    assert svc.status().state == "off"


def test_a_bad_delete_selector_given_to_the_service_frees_the_lease(sim, make_service, history):
    """Settings built without the CLI (a TUI, a test) still fail in one line and leave nothing running."""
    svc = make_service(delete_after_s=3600.0, delete_selector="a=(b", capture_logs=False, capture_events=False,
                       annotate=False)
    with pytest.raises(KubeError, match="a=\\(b"):
        svc.start()
    assert history.lease(lease_name("sim")) is None
    assert not svc._started
    wait_for(lambda: svc.status().state == "off", what="off")
