"""Commission periods: calendar months in the program's time zone, locked a few days after they end.

A period is *open* until its lock time (late orders and refunds still land in it), then *locked*
until settlement *closes* it. Which period an entry lands in, and in which period's settlement it
is paid, follow from times alone, so both are fixed when the entry is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from .errors import InvalidInput

OPEN, CLOSING, BONUSED, CLOSED = "open", "closing", "bonused", "closed"


@dataclass(frozen=True)
class Calendar:
    tz: str = "UTC"
    lock_days: int = 5
    # Settlement of a period starts no sooner than this after its lock: longer than any request that
    # decided to land an entry in the period can take to commit (so no ConditionCheck on the period).
    fence: timedelta = timedelta(0)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def period_of(self, at: datetime) -> str:
        local = at.astimezone(self.zone)
        return f"{local.year:04d}-{local.month:02d}"

    def start(self, period: str) -> datetime:
        return _start(self.tz, period)

    def end(self, period: str) -> datetime:
        """The first instant after the period (the next period's start)."""
        return self.start(next_period(period))

    def lock_at(self, period: str) -> datetime:
        return _lock_at(self.tz, self.lock_days, period)

    def landing_period(self, at: datetime, now: datetime) -> str:
        """Where an entry for an event at `at`, recorded `now`, belongs: the event's own period while
        it is open, else the period of `now` (a late refund of a locked period is a clawback now)."""
        own = self.period_of(at)
        if now < self.lock_at(own):
            return own
        return max(own, self.period_of(now))

    def settles_in(self, period: str, payable_at: datetime) -> str:
        """The period whose settlement pays an entry: its own period, or the first later one whose
        lock comes after the entry's holding period ended."""
        p = period
        while self.lock_at(p) < payable_at:
            p = next_period(p)
        return p

    def closeable(self, period: str, now: datetime) -> bool:
        """Settlement may start: the period is locked and the fence after its lock has passed."""
        return now >= self.lock_at(period) + self.fence

    def settles_from(self, period: str) -> datetime:
        """The first instant settlement of `period` may start."""
        return self.lock_at(period) + self.fence

    def last_closeable(self, now: datetime) -> str:
        """The latest period whose lock time has passed at `now`."""
        p = previous_period(self.period_of(now))
        while not self.closeable(p, now):
            p = previous_period(p)
        return p


@lru_cache(maxsize=512)
def _start(tz: str, period: str) -> datetime:
    """The first instant of a period in a zone, in UTC (cached: an order asks for it every time)."""
    year, month = parse(period)
    return datetime(year, month, 1, tzinfo=ZoneInfo(tz)).astimezone(UTC)


@lru_cache(maxsize=512)
def _lock_at(tz: str, lock_days: int, period: str) -> datetime:
    return _start(tz, next_period(period)) + timedelta(days=lock_days)


PERIOD_RE = re.compile(r"^(2[0-9]{3})-(0[1-9]|1[0-2])$", re.ASCII)


def parse(period: str) -> tuple[int, int]:
    match = PERIOD_RE.match(period) if isinstance(period, str) else None
    if match is None:
        raise InvalidInput(f"a period is written YYYY-MM, not {str(period)[:20]!r}", code="invalid_period")
    return int(match.group(1)), int(match.group(2))


def next_period(period: str) -> str:
    year, month = parse(period)
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def previous_period(period: str) -> str:
    year, month = parse(period)
    return f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"
