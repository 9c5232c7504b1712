"""Query parameters of the list calls, as upstream reads them: both spellings (`page_size` and
`pageSize`...), page sizes, `order_by`, and page tokens bound to the listing that wrote them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

DEFAULT_PAGE_SIZE, MIN_PAGE_SIZE, MAX_PAGE_SIZE = 50, 5, 10000  # upstream's lister
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ORDER_PATTERN = re.compile(r"^([\w.]+)\s*(ASC|asc|DESC|desc)?$")
RESULT_ORDER_FIELDS = ("create_time", "update_time", "summary.start_time", "summary.end_time")
RECORD_ORDER_FIELDS = ("create_time", "update_time")


class BadRequest(ValueError):
    """400 INVALID_ARGUMENT with this message."""


def param(query: Mapping[str, str], snake: str) -> str:
    """A parameter by its proto name or its JSON (lowerCamel) name; the proto name wins."""
    if snake in query:
        return query[snake]
    head, *rest = snake.split("_")
    camel = head + "".join(p[:1].upper() + p[1:] for p in rest)
    return query.get(camel, "")


def page_size(query: Mapping[str, str]) -> int:
    raw = param(query, "page_size").strip()
    if not raw:
        return DEFAULT_PAGE_SIZE
    try:
        n = int(raw)
    except ValueError:
        raise BadRequest(f"invalid page_size {raw[:40]!r}: an integer from {MIN_PAGE_SIZE} to {MAX_PAGE_SIZE}") from None
    if n == 0:
        return DEFAULT_PAGE_SIZE
    if n < MIN_PAGE_SIZE or n > MAX_PAGE_SIZE:
        raise BadRequest(f"invalid page size ({n}): value must be greater than {MIN_PAGE_SIZE} and less than "
                         f"{MAX_PAGE_SIZE}")
    return n


@dataclass(frozen=True)
class Order:
    field: str  # "id" when the caller gave none (upstream's default: ascending by id)
    desc: bool


def order_by(query: Mapping[str, str], allowed: tuple[str, ...]) -> Order:
    raw = param(query, "order_by").strip()
    if not raw:
        return Order("id", False)
    explain = f"the value must obey the format <{'|'.join(sorted(allowed))}> [asc|desc]"
    m = ORDER_PATTERN.match(raw)
    if m is None:
        raise BadRequest(f"invalid order by statement {raw[:80]!r}: {explain}")
    if m.group(1) not in allowed:
        raise BadRequest(f"{m.group(1)}: field is unknown or cannot be used in the order by clause: {explain}")
    return Order(m.group(1), (m.group(2) or "asc").lower() == "desc")


def _fingerprint(listing: str, parent: str, filter_text: str, order: Order) -> str:
    raw = json.dumps([listing, parent, filter_text.strip(), order.field, order.desc])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def encode_token(listing: str, parent: str, filter_text: str, order: Order, sort_value: Any, last_id: int) -> str:
    body = json.dumps([_fingerprint(listing, parent, filter_text, order), sort_value, last_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_token(token: str, listing: str, parent: str, filter_text: str, order: Order) -> tuple[Any, int] | None:
    """(sort value, last id) of a page token, checked against the listing asking; None without a token."""
    token = token.strip()
    if not token:
        return None
    try:
        vals = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, RecursionError):
        vals = None
    ok = (isinstance(vals, list) and len(vals) == 3 and isinstance(vals[0], str)
          and type(vals[2]) is int and INT64_MIN <= vals[2] <= INT64_MAX
          and (vals[1] is None or (type(vals[1]) is int and INT64_MIN <= vals[1] <= INT64_MAX)))
    if not ok:
        raise BadRequest("invalid page token: pass the next_page_token of the previous page, unchanged")
    if vals[0] != _fingerprint(listing, parent, filter_text, order):
        raise BadRequest("invalid page token: the parent, filter or order_by differs from the query that "
                         "returned this token")
    return vals[1], vals[2]
