"""The times Upline accepts: instants with a UTC offset, between the years 2000 and 2999 (UTC).

One rule for every edge that takes a time (request bodies, queue messages): a year like 0001 passed
pydantic's own datetime type, was stored, and then every read of the record failed."""

from __future__ import annotations

from datetime import UTC, datetime

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
END = datetime(3000, 1, 1, tzinfo=UTC)  # exclusive


def check_instant(at: datetime) -> datetime:
    """`at` unchanged if it is a plausible instant, else ValueError (never OverflowError: year 1 at
    +14:00 is before year 1 in UTC, which datetime cannot hold)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a time needs its UTC offset")
    try:
        utc = at.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time must be between the years 2000 and 2999 (UTC)") from None
    if not EARLIEST <= utc < END:
        raise ValueError("the time must be between the years 2000 and 2999 (UTC)")
    return at
