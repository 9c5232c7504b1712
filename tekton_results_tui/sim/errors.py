"""Kubernetes `Status` error bodies, shaped as the real API server writes them."""

from __future__ import annotations

import json
from typing import Any

REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
    406: "NotAcceptable", 409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid",
    429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout",
}


class ApiError(Exception):
    """An API failure that the server answers with a `Status` object and this HTTP code."""

    def __init__(self, code: int, message: str, reason: str | None = None,
                 details: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details
        self.headers = headers or {}
        self.metadata = metadata or {}

    def status(self) -> dict[str, Any]:
        st: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": self.metadata,
                              "status": "Failure", "message": self.message, "reason": self.reason}
        if self.details is not None:
            st["details"] = self.details
        st["code"] = self.code
        return st

    def body(self) -> bytes:
        return json.dumps(self.status()).encode()


def not_found(resource: str, group: str, name: str) -> ApiError:
    qual = f"{resource}.{group}" if group else resource
    return ApiError(404, f'{qual} "{name}" not found', "NotFound",
                    {"name": name, "group": group, "kind": resource} if group else {"name": name, "kind": resource})


def already_exists(resource: str, group: str, name: str) -> ApiError:
    return ApiError(409, f'{resource}.{group} "{name}" already exists', "AlreadyExists",
                    {"name": name, "group": group, "kind": resource})


def conflict(resource: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(409, f'Operation cannot be fulfilled on {resource}.{group} "{name}": {why}', "Conflict",
                    {"name": name, "group": group, "kind": resource})


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, "BadRequest")


def expired(message: str, continue_token: str | None = None) -> ApiError:
    meta = {"continue": continue_token} if continue_token else None
    return ApiError(410, message, "Expired", metadata=meta)


def too_old(rv: int, oldest: int) -> ApiError:
    """410 the watch cache gives for a resourceVersion compacted away (as HTTP status or in an ERROR event)."""
    return ApiError(410, f"too old resource version: {rv} ({oldest})", "Expired")
