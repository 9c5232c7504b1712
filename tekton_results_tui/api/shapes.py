"""Results and Records in upstream's JSON: protojson with proto field names (the REST gateway of
tektoncd/results marshals with UseProtoNames), empty fields omitted, Timestamps as RFC 3339,
`summary.status` as the enum name, `data.value` as base64 of the object's JSON.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from tekton_results_tui.store.api_reads import ApiRecord, ApiResult

GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 500: 13, 503: 14}


def timestamp(epoch: int | None) -> str | None:
    """A google.protobuf.Timestamp as protojson writes it (whole seconds: no fraction)."""
    if epoch is None:
        return None
    return _rfc3339(int(epoch))


@lru_cache(maxsize=65536)
def _rfc3339(epoch: int) -> str:  # a page repeats few distinct seconds; formatting was a tenth of a list's time
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _etag(uid: str, update_time: int) -> str:
    return f"{uid}-{int(update_time) * 1_000_000_000}"  # upstream: "<id>-<updated_time in ns>"


def _omit_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", {}, [])}


def result_json(r: ApiResult) -> dict[str, Any]:
    # built key by key (empty ones left out) rather than filtered afterwards: a page builds 50 of these
    out: dict[str, Any] = {}
    if r.name:
        out["name"] = r.name
    if r.uid:
        out["id"] = out["uid"] = r.uid
    _times(out, r.create_time, r.update_time)
    ann = r.annotations
    if isinstance(ann, dict) and ann:
        out["annotations"] = {str(k): str(v) for k, v in ann.items()}
    out["etag"] = _etag(r.uid, r.update_time)
    if r.summary_record:  # upstream writes a summary only once the top-level run set it
        status = r.summary_status if r.summary_status != "UNKNOWN" else None  # enum zero: omitted
        sann = r.summary_annotations if isinstance(r.summary_annotations, dict) else {}
        out["summary"] = _omit_empty({
            "record": r.summary_record, "type": r.summary_type, "start_time": timestamp(r.summary_start),
            "end_time": timestamp(r.summary_end), "status": status,
            "annotations": {str(k): str(v) for k, v in sann.items()},
        })
    return out


def _times(out: dict[str, Any], create: int | None, update: int | None) -> None:
    """created_time/create_time and updated_time/update_time (upstream writes both spellings)."""
    if create is not None:
        out["created_time"] = out["create_time"] = _rfc3339(int(create))
    if update is not None:
        out["updated_time"] = out["update_time"] = _rfc3339(int(update))


def record_json(r: ApiRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if r.name:
        out["name"] = r.name
    if r.uid:
        out["id"] = out["uid"] = r.uid
    if r.data is not None:
        raw = r.data.encode("utf-8", "surrogatepass") if isinstance(r.data, str) else r.data
        data = {"type": r.type} if r.type else {}
        if raw:
            data["value"] = base64.b64encode(raw).decode("ascii")
        if data:
            out["data"] = data
    out["etag"] = _etag(r.uid, r.update_time)
    _times(out, r.create_time, r.update_time)
    return out


def error_json(status: int, message: str) -> dict[str, Any]:
    """An error as the gateway writes a gRPC status: code, message, details."""
    return {"code": GRPC_CODES.get(status, 2), "message": message, "details": []}
