"""How times are written in items: fixed-width UTC, so they sort as strings."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(dt: datetime) -> str:
    """Fixed-width UTC timestamps. The year is padded here, not by strftime's %Y (which writes year 1
    as "1" on Linux, a time parse_iso then cannot read)."""
    try:
        u = dt.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{dt.isoformat()} is outside the years a stored time can hold") from None
    if u.year >= 1000:
        return u.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{u.year:04d}" + u.strftime("-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def epoch(dt: datetime) -> int:
    return int(dt.timestamp())
