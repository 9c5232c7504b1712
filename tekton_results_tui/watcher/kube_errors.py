"""Kubernetes API failures as typed errors, built in one place from the client's exceptions.

The client raises `ApiException` (with an HTTP status) for an answer and urllib3/OS errors
when there is none. Callers should not read status codes: `api_call(...)` (or `kube_error`)
turns each failure into the error it means, with a one-line message naming the verb, the
resource and the namespace, and callers catch the meaning they handle:

  NotFound (404)   gone meanwhile; a pod log: the pod is gone
  Conflict (409)   a precondition failed: the object changed
  Gone (410)       a watch's resourceVersion is too old: LIST again
  Forbidden (403) / Unauthorized (401)   RBAC / credentials, said as "not allowed to <verb> <resource>"
  TooManyRequests (429, with Retry-After) / ServerError (5xx)   transient: back off
  BadRequest (400) / Invalid (422)   the request itself (a pod log: container not started)
  Unreachable      no answer (refused, DNS, TLS, connect timeout)
  StreamBroken     an open stream dropped or stalled (resume from the last resourceVersion)
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
from kubernetes.client.rest import ApiException

from tekton_results_tui.errors import UserError


class KubeError(UserError):
    """A cluster problem a person can act on; str() is one line."""

    retry_after: float | None = None  # seconds the server asked us to wait before trying again


class ApiError(KubeError):
    """The API server answered with an error status."""

    status = 0

    def __init__(self, message: str, *, status: int | None = None, detail: str = "",
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.detail = detail  # the server's Status message
        self.retry_after = retry_after  # seconds the server asked us to wait (429, some 503s)


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class Gone(ApiError):
    status = 410


class Invalid(ApiError):
    status = 422


class TooManyRequests(ApiError):
    status = 429


class ServerError(ApiError):
    """5xx: the server (or a proxy in front of it) failed; worth retrying."""

    status = 500


class Unreachable(KubeError):
    """No answer from the API server: refused, DNS, TLS, a connect timeout."""


class StreamBroken(Unreachable):
    """An open response stopped: the connection dropped (ProtocolError) or stalled past the read timeout."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


_BY_STATUS: dict[int, type[ApiError]] = {c.status: c for c in (BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
                                                                Gone, Invalid, TooManyRequests)}
CLIENT_ERRORS = (ApiException, urllib3.exceptions.HTTPError, OSError)  # what the kubernetes client raises
_STREAM_ERRORS = (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError, socket.timeout, ConnectionError)
_TIMEOUTS = (urllib3.exceptions.ReadTimeoutError, socket.timeout)


def api_error_class(status: int) -> type[ApiError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else ApiError


def kube_error(exc: BaseException, verb: str, resource: str, namespace: str | None = None,
               server: str | None = None) -> KubeError:
    """The typed error for a failed `verb resource` call (the one place that reads HTTP statuses)."""
    if isinstance(exc, KubeError):
        return exc
    message = describe(exc, verb, resource, namespace, server)
    if isinstance(exc, ApiException):
        status = exc.status or 0
        if status == 0:
            return Unreachable(message)
        return api_error_class(status)(message, status=status, detail=api_message(exc), retry_after=retry_after(exc))
    if isinstance(exc, _STREAM_ERRORS):
        return StreamBroken(message, timed_out=isinstance(exc, _TIMEOUTS))
    return Unreachable(message)


def from_status(code: int, message: str, verb: str, resource: str) -> ApiError:
    """The typed error for a watch ERROR event (a Status object in the stream instead of an HTTP answer)."""
    return api_error_class(code)(f"{verb} {resource}: ERROR event {code}: {message}", status=code, detail=message)


@contextmanager
def api_call(verb: str, resource: str, namespace: str | None = None, server: str | None = None) -> Iterator[None]:
    """Run client calls; a client failure leaves as the typed KubeError (the original is its __cause__)."""
    try:
        yield
    except CLIENT_ERRORS as exc:
        raise kube_error(exc, verb, resource, namespace, server) from exc


# --- errors in words ------------------------------------------------------------------


def api_message(exc: ApiException) -> str:
    """The server's Status message, else the HTTP reason."""
    body = getattr(exc, "body", None)
    if body:
        try:
            data = json.loads(body)
            if isinstance(data, dict) and data.get("message"):
                return str(data["message"]).splitlines()[0]
        except (ValueError, TypeError):
            pass
    return str(getattr(exc, "reason", "") or "").splitlines()[0] if getattr(exc, "reason", None) else f"HTTP {exc.status}"


def retry_after(exc: ApiException) -> float | None:
    """Seconds from a Retry-After header (or the Status details), if the server sent one."""
    headers = getattr(exc, "headers", None) or {}
    val: Any = None
    try:
        val = headers.get("Retry-After")
    except AttributeError:
        pass
    if val is None and getattr(exc, "body", None):
        try:
            val = (json.loads(exc.body).get("details") or {}).get("retryAfterSeconds")
        except (ValueError, TypeError, AttributeError):
            val = None
    try:
        return max(0.0, float(val)) if val is not None else None
    except (TypeError, ValueError):
        return None


def where(namespace: str | None) -> str:
    return f'in namespace "{namespace}"' if namespace else "at the cluster scope"


def describe(exc: BaseException, verb: str, resource: str, namespace: str | None = None, server: str | None = None) -> str:
    """One line for a failed `verb resource` call."""
    if isinstance(exc, KubeError):
        return str(exc)
    if isinstance(exc, ApiException):
        status = exc.status or 0
        msg = api_message(exc)
        if status == 401:
            return f"401 Unauthorized: the API server at {server or 'the cluster'} rejected the credentials ({msg})"
        if status == 403:
            return f"403 Forbidden: not allowed to {verb} {resource} {where(namespace)} ({msg})"
        if status == 0:
            return f"cannot reach the Kubernetes API at {server}: {msg}"
        return f"{status} from {verb} {resource} {where(namespace)}: {msg}"
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
        inner = getattr(exc, "reason", None)
        if inner is not None:
            reason = str(inner).splitlines()[0]
        return f"cannot reach the Kubernetes API at {server}: {_short(reason)}"
    return f"{verb} {resource} {where(namespace)}: {reason}"


def _short(reason: str) -> str:
    # urllib3 wraps the useful part: "...: Failed to establish a new connection: [Errno 111] Connection refused"
    if "Failed to establish a new connection:" in reason:
        return reason.split("Failed to establish a new connection:", 1)[1].strip().rstrip("'\")")
    return reason
