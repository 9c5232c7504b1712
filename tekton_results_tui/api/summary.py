"""GetRecordListSummary: `summary=`, `group_by=` and `order_by=` read as upstream reads them, and the
store's per-group sums shaped into upstream's answer (durations as PostgreSQL prints an interval,
`HH:MM:SS[.ffffff]`; `last_runtime` and time `group_value`s in Unix seconds).
"""

from __future__ import annotations

import calendar
from datetime import datetime, timezone
from typing import Any

from tekton_results_tui.api.params import BadRequest

AGGREGATES = ("total", "succeeded", "failed", "cancelled", "running", "others", "last_runtime", "avg_duration",
              "min_duration", "max_duration", "total_duration")
TIME_GROUPS = ("minute", "hour", "day", "week", "month", "year")
FIELD_GROUPS = ("namespace", "pipeline", "repository")
TIME_FIELDS = ("startTime", "completionTime")


def parse_summary(raw: str) -> list[str]:
    wanted = [s.strip() for s in raw.split(",")] if raw.strip() else ["total"]
    for s in wanted:
        if s not in AGGREGATES:
            raise BadRequest(f"invalid aggregate query: {s!r} (one of {', '.join(AGGREGATES)})")
    return list(dict.fromkeys(wanted))


def parse_group_by(raw: str) -> tuple[str, str | None] | None:
    raw = raw.strip()
    if not raw:
        return None
    parts = raw.split()
    if parts[0] not in TIME_GROUPS + FIELD_GROUPS or len(parts) > 2:
        raise BadRequest(f"group_by does not recognize {raw!r}: one of {', '.join(TIME_GROUPS + FIELD_GROUPS)}, "
                         f"a time group optionally followed by {' or '.join(TIME_FIELDS)}")
    if len(parts) == 2:
        if parts[0] not in TIME_GROUPS or parts[1] not in TIME_FIELDS:
            raise BadRequest(f"group_by does not recognize {parts[1]!r}: after a time group, one of "
                             f"{', '.join(TIME_FIELDS)}")
        return parts[0], parts[1]
    return parts[0], None


def parse_order(raw: str, wanted: list[str]) -> tuple[str, bool] | None:
    """`DESC avg_duration` as upstream documents it, or `avg_duration desc` as its code accepts."""
    parts = raw.split()
    if not parts:
        return None
    dirs = {"asc": False, "desc": True}
    if len(parts) == 2 and parts[0].lower() in dirs:
        field, desc = parts[1], dirs[parts[0].lower()]
    elif len(parts) == 2 and parts[1].lower() in dirs:
        field, desc = parts[0], dirs[parts[1].lower()]
    else:
        raise BadRequest(f"order_by does not recognize {raw!r}: e.g. \"DESC avg_duration\" or \"ASC running\"")
    if field not in wanted:
        raise BadRequest(f"field name {field} is not allowed, must be one of summary ({', '.join(wanted)})")
    return field, desc


def interval(seconds: float | None) -> str | None:
    """Seconds as PostgreSQL prints an interval of hours: `01:16:21.875`; None stays null."""
    if seconds is None:
        return None
    neg = seconds < 0
    us = round(abs(seconds) * 1_000_000)
    h, rem = divmod(us, 3_600_000_000)
    m, rem = divmod(rem, 60_000_000)
    s, frac = divmod(rem, 1_000_000)
    text = f"{h:02d}:{m:02d}:{s:02d}" + (f".{frac:06d}".rstrip("0") if frac else "")
    return ("-" if neg else "") + text


def _roll_up(epoch: int | None, unit: str) -> int | None:
    if epoch is None:
        return None
    d = datetime.fromtimestamp(epoch, tz=timezone.utc)
    start = d.replace(day=1) if unit == "month" else d.replace(month=1, day=1)
    return calendar.timegm(start.replace(hour=0, minute=0, second=0, microsecond=0).timetuple())


def _merge(rows: list[dict[str, Any]], unit: str) -> list[dict[str, Any]]:
    """Day groups into months or years (the store groups by day; a calendar month is not a fixed span)."""
    out: dict[Any, dict[str, Any]] = {}
    for r in rows:
        key = _roll_up(r["group_value"], unit)
        acc = out.get(key)
        if acc is None:
            out[key] = {**r, "group_value": key}
            continue
        for k in ("total", "succeeded", "failed", "cancelled", "running", "others", "dur_count"):
            acc[k] += r[k]
        acc["dur_sum"] = None if acc["dur_sum"] is None and r["dur_sum"] is None else (acc["dur_sum"] or 0) + (r["dur_sum"] or 0)
        for k, pick in (("last_runtime", max), ("dur_max", max), ("dur_min", min)):
            vals = [v for v in (acc[k], r[k]) if v is not None]
            acc[k] = pick(vals) if vals else None
    return list(out.values())


def shape(rows: list[dict[str, Any]], wanted: list[str], group: tuple[str, str | None] | None,
          order: tuple[str, bool] | None) -> dict[str, Any]:
    if group is not None and group[0] in ("month", "year"):
        rows = _merge(rows, group[0])
    out = []
    for r in rows:
        avg = (r["dur_sum"] / r["dur_count"]) if r["dur_count"] else None
        vals: dict[str, Any] = {
            "total": r["total"], "succeeded": r["succeeded"], "failed": r["failed"], "cancelled": r["cancelled"],
            "running": r["running"], "others": r["others"], "last_runtime": r["last_runtime"],
            "avg_duration": interval(avg), "min_duration": interval(r["dur_min"]),
            "max_duration": interval(r["dur_max"]), "total_duration": interval(r["dur_sum"]),
        }
        item = {k: vals[k] for k in wanted}
        if group is not None:
            item["group_value"] = r.get("group_value")
        out.append((item, r, avg))
    if order is not None and group is not None:
        field, desc = order
        raw = {"avg_duration": lambda t: t[2], "min_duration": lambda t: t[1]["dur_min"],
               "max_duration": lambda t: t[1]["dur_max"], "total_duration": lambda t: t[1]["dur_sum"]}
        key = raw.get(field, lambda t: t[0][field])
        present = [t for t in out if key(t) is not None]
        missing = [t for t in out if key(t) is None]
        present.sort(key=key, reverse=desc)
        out = present + missing if not desc else missing + present  # NULLs as PostgreSQL sorts them
    return {"summary": [t[0] for t in out]}
