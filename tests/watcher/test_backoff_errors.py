"""The one Backoff and the typed Kubernetes errors built from the client's exceptions."""

from __future__ import annotations

import socket

import pytest
import urllib3
from kubernetes.client.rest import ApiException

from tekton_results_tui.errors import UserError
from tekton_results_tui.watcher import kube_errors as ke
from tekton_results_tui.watcher.backoff import RETRY_AFTER_CAP_S, Backoff


def test_backoff_doubles_with_jitter_up_to_the_cap_and_resets() -> None:
    b = Backoff(0.5, cap=4.0, jitter=0.5)
    got = [b.next() for _ in range(6)]
    for i, d in enumerate(got):
        full = min(4.0, 0.5 * 2 ** i)
        assert full * 0.5 <= d <= full, (i, d)
    b.reset()
    assert b.next() <= 0.5


def test_retry_after_is_a_floor_and_bounded() -> None:
    b = Backoff(0.5, cap=4.0)
    assert b.next(retry_after_s=7.0) == 7.0
    assert b.next(retry_after_s=10**9) == RETRY_AFTER_CAP_S
    assert Backoff(1.0, cap=1.0, jitter=0.0).delay(50) == 1.0


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(0.0)
    with pytest.raises(ValueError):
        Backoff(2.0, cap=1.0)


def _api(status: int, body: str = "", headers: dict | None = None) -> ApiException:
    exc = ApiException(status=status, reason="Reason")
    exc.body = body
    exc.headers = headers or {}
    return exc


@pytest.mark.parametrize(("status", "cls"), [
    (400, ke.BadRequest), (401, ke.Unauthorized), (403, ke.Forbidden), (404, ke.NotFound), (409, ke.Conflict),
    (410, ke.Gone), (422, ke.Invalid), (429, ke.TooManyRequests), (500, ke.ServerError), (503, ke.ServerError),
    (418, ke.ApiError)])
def test_statuses_become_typed_errors(status: int, cls: type) -> None:
    err = ke.kube_error(_api(status, '{"message": "the reason\\nsecond line"}'), "list", "pipelineruns.tekton.dev", "ci")
    assert type(err) is cls and err.status == status and err.detail == "the reason"
    assert isinstance(err, UserError) and "\n" not in str(err)


def test_forbidden_names_the_verb_resource_and_namespace() -> None:
    err = ke.kube_error(_api(403), "delete", "customruns.tekton.dev", "dev")
    assert str(err).startswith("403 Forbidden: not allowed to delete customruns.tekton.dev in namespace \"dev\"")


def test_retry_after_travels_with_the_error() -> None:
    err = ke.kube_error(_api(429, headers={"Retry-After": "3"}), "watch", "taskruns.tekton.dev")
    assert isinstance(err, ke.TooManyRequests) and err.retry_after == 3.0
    err = ke.kube_error(_api(503, body='{"details": {"retryAfterSeconds": 2}}'), "list", "taskruns.tekton.dev")
    assert isinstance(err, ke.ServerError) and err.retry_after == 2.0


@pytest.mark.parametrize(("exc", "cls", "timed_out"), [
    (urllib3.exceptions.ProtocolError("Connection broken"), ke.StreamBroken, False),
    (urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out"), ke.StreamBroken, True),
    (socket.timeout("timed out"), ke.StreamBroken, True),
    (urllib3.exceptions.MaxRetryError(None, "/", OSError("[Errno 111] Connection refused")), ke.Unreachable, None),
])
def test_no_answer_is_unreachable_and_a_broken_stream_says_so(exc: BaseException, cls: type, timed_out: bool | None) -> None:
    err = ke.kube_error(exc, "watch", "pipelineruns.tekton.dev", None, "https://k8s:6443")
    assert type(err) is cls and "cannot reach the Kubernetes API at https://k8s:6443" in str(err)
    if timed_out is not None:
        assert err.timed_out is timed_out


def test_api_call_raises_the_typed_error_with_the_original_as_cause() -> None:
    original = _api(409)
    with pytest.raises(ke.Conflict) as got:
        with ke.api_call("delete", "pipelineruns.tekton.dev", "ci"):
            raise original
    assert got.value.__cause__ is original


def test_a_watch_error_event_is_typed_by_its_code() -> None:
    assert isinstance(ke.from_status(410, "too old", "watch", "taskruns.tekton.dev"), ke.Gone)
    err = ke.from_status(500, "boom", "watch", "taskruns.tekton.dev")
    assert isinstance(err, ke.ServerError) and str(err) == "watch taskruns.tekton.dev: ERROR event 500: boom"
