"""JSON merge patch (RFC 7386) and JSON patch (RFC 6902), with the API server's error codes."""

from __future__ import annotations

import copy
import json
from typing import Any

from tekton_results_tui.sim.errors import ApiError, bad_request

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def _unprocessable(msg: str) -> ApiError:
    # what patch.go answers for a JSON patch that fails to apply (NewGenericServerResponse 422)
    return ApiError(422, "the server rejected our request due to an error in our request", "Invalid",
                    {"causes": [{"reason": "UnexpectedServerResponse", "message": msg}]})


def _ptr(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _unprocessable(f"invalid path: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str], path: str) -> Any:
    cur = doc
    for p in parts:
        if isinstance(cur, dict):
            if p not in cur:
                raise _unprocessable(f"missing value: {path}")
            cur = cur[p]
        elif isinstance(cur, list):
            try:
                cur = cur[int(p)]
            except (ValueError, IndexError):
                raise _unprocessable(f"unable to access invalid index: {p}") from None
        else:
            raise _unprocessable(f"doc is missing path: {path}")
    return cur


def json_patch(doc: Any, ops: Any) -> Any:
    if not isinstance(ops, list) or not all(isinstance(o, dict) for o in ops):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for op in ops:
        kind, path = op.get("op"), op.get("path")
        if not isinstance(path, str):
            raise _unprocessable(f"missing path in operation {json.dumps(op)}")
        parts = _ptr(path)
        if kind == "test":
            try:
                have = _walk(doc, parts, path)
            except ApiError:
                have = None
            if have != op.get("value"):
                raise _unprocessable(f"testing value {path} failed: test failed")
            continue
        if kind not in ("add", "remove", "replace"):
            raise _unprocessable(f"Unexpected kind: {kind}")
        if not parts:
            doc = copy.deepcopy(op.get("value"))
            continue
        parent = _walk(doc, parts[:-1], path)
        last = parts[-1]
        if isinstance(parent, dict):
            if kind in ("remove", "replace") and last not in parent:
                raise _unprocessable(f"{'remove' if kind == 'remove' else 'replace'} operation does not apply: doc is missing key: {path}")
            if kind == "remove":
                del parent[last]
            else:
                parent[last] = copy.deepcopy(op.get("value"))
        elif isinstance(parent, list):
            if last == "-" and kind == "add":
                parent.append(copy.deepcopy(op.get("value")))
                continue
            try:
                i = int(last)
            except ValueError:
                raise _unprocessable(f"unable to access invalid index: {last}") from None
            if kind == "add":
                if i < 0 or i > len(parent):
                    raise _unprocessable(f"unable to access invalid index: {i}")
                parent.insert(i, copy.deepcopy(op.get("value")))
            else:
                if i < 0 or i >= len(parent):
                    raise _unprocessable(f"unable to access invalid index: {i}")
                if kind == "remove":
                    del parent[i]
                else:
                    parent[i] = copy.deepcopy(op.get("value"))
        else:
            raise _unprocessable(f"doc is missing path: {path}")
    return doc


def apply_patch(content_type: str, doc: dict[str, Any], body: bytes) -> dict[str, Any]:
    """Patch a custom resource as the CRD handler does; strategic merge and apply are refused with 415."""
    ct = content_type.split(";")[0].strip().lower()
    if ct in (STRATEGIC, APPLY) or ct not in (MERGE, JSON_PATCH):
        raise ApiError(415, "the body of the request was in an unknown format - accepted media types include: "
                       "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                       "UnsupportedMediaType")
    try:
        patch = json.loads(body or b"null")
    except ValueError as exc:
        raise bad_request(f"error decoding patch: {exc}") from None
    if ct == MERGE:
        if not isinstance(patch, dict):
            raise bad_request("error decoding patch: json: cannot unmarshal into Go value of type map[string]interface {}")
        out = merge_patch(doc, patch)
    else:
        out = json_patch(doc, patch)
    if not isinstance(out, dict):
        raise bad_request("patched object is not a JSON object")
    return out
