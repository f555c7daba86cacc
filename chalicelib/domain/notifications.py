"""Member notifications with manners: never inside the member's quiet hours, in the member's own
IANA time zone. A message that falls there waits for the next allowed minute."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidInput

SOURCE = "upline.members"
REWARD_EARNED, REWARD_EXPIRING, TIER_CHANGED = "RewardEarned", "RewardExpiring", "TierChanged"
DEFAULT_TZ = "UTC"
DEFAULT_QUIET = ("21:00", "09:00")
_MINUTE = timedelta(minutes=1)
# A quiet window is at most 24 h; a DST jump adds at most a few hours. Past this, something is wrong.
_MAX_SCAN_MINUTES = 27 * 60


@dataclass(frozen=True)
class QuietHours:
    """Local wall-clock window [start, end); it wraps midnight when start > end; start == end: none."""

    tz: str = DEFAULT_TZ
    start: time = time(21, 0)
    end: time = time(9, 0)

    def quiet_at(self, local: datetime) -> bool:
        t = local.time().replace(second=0, microsecond=0)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


def check_tz(name: str) -> str:
    if len(name) > 64:
        raise InvalidInput("time zone name is too long", code="invalid_time_zone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(f"{name!r} is not an IANA time zone", code="invalid_time_zone") from None
    return name


def parse_hhmm(text: str) -> time:
    try:
        hh, mm = text.split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise InvalidInput(f"{text!r} is not a time like 21:00", code="invalid_quiet_hours") from None


def next_allowed(at: datetime, quiet: QuietHours) -> datetime:
    """The earliest instant at or after `at` (UTC) that is outside the quiet window on the member's
    wall clock. Walking real minutes in UTC and reading the wall clock for each is DST-safe by
    construction: skipped wall times are never produced and repeated ones are seen twice."""
    zone = ZoneInfo(quiet.tz)
    if not quiet.quiet_at(at.astimezone(zone)):
        return at
    t = at.astimezone(UTC).replace(second=0, microsecond=0) + _MINUTE
    for _ in range(_MAX_SCAN_MINUTES):
        if not quiet.quiet_at(t.astimezone(zone)):
            return t
        t += _MINUTE
    raise ValueError("no allowed minute within a day")  # pragma: no cover - a window is < 24 h


@dataclass(frozen=True)
class Notification:
    """An outbox message: its id is deterministic, so writing it twice is writing it once."""

    event_id: str
    member_id: str
    detail_type: str
    detail: dict[str, Any]
    created_at: datetime
    not_before: datetime

    def eventbridge_entry(self) -> dict[str, str]:
        """Ready for EventBridge PutEvents."""
        return {
            "Source": SOURCE,
            "DetailType": self.detail_type,
            "Detail": json.dumps(
                {"member_id": self.member_id, "event_id": self.event_id, **self.detail}, sort_keys=True, default=str
            ),
        }


def notify(
    event_id: str, member_id: str, detail_type: str, detail: dict[str, Any], now: datetime, quiet: QuietHours
) -> Notification:
    return Notification(event_id, member_id, detail_type, detail, now, next_allowed(now, quiet))
