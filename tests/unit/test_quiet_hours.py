"""Quiet hours in the member's own time zone, across zones and daylight-saving changes."""
from datetime import datetime, time, timedelta, timezone

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.notifications import QuietHours, check_tz, next_allowed, notify

UTC = timezone.utc


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_outside_quiet_hours_a_message_goes_at_once():
    assert next_allowed(at(2026, 6, 1, 12, 0, 30), QuietHours("Europe/Berlin")) == at(2026, 6, 1, 12, 0, 30)


def test_the_same_instant_is_quiet_in_one_zone_and_allowed_in_another():
    instant = at(2026, 6, 1, 20, 0)  # 22:00 in Berlin (CEST), 16:00 in New York (EDT)
    assert next_allowed(instant, QuietHours("America/New_York")) == instant
    assert next_allowed(instant, QuietHours("Europe/Berlin")) == at(2026, 6, 2, 7, 0)  # 09:00 CEST


def test_a_message_in_the_evening_waits_for_the_morning_in_tokyo():
    assert next_allowed(at(2026, 1, 10, 13, 30), QuietHours("Asia/Tokyo")) == at(2026, 1, 11, 0, 0)


def test_the_first_quiet_minute_and_the_last_allowed_minute():
    q = QuietHours("UTC")
    assert next_allowed(at(2026, 1, 1, 20, 59, 59), q) == at(2026, 1, 1, 20, 59, 59)
    assert next_allowed(at(2026, 1, 1, 21, 0), q) == at(2026, 1, 2, 9, 0)
    assert next_allowed(at(2026, 1, 2, 8, 59, 59), q) == at(2026, 1, 2, 9, 0)


def test_spring_forward_night_in_new_york_waits_until_nine_local_daylight_time():
    # 2026-03-08 02:00 EST -> 03:00 EDT; the night is an hour shorter.
    sent = next_allowed(at(2026, 3, 8, 3, 0), QuietHours("America/New_York"))  # 22:00 EST on the 7th
    assert sent == at(2026, 3, 8, 13, 0)  # 09:00 EDT (UTC-4)


def test_fall_back_night_in_berlin_waits_until_nine_local_standard_time():
    # 2026-10-25 03:00 CEST -> 02:00 CET; the night is an hour longer.
    sent = next_allowed(at(2026, 10, 24, 20, 0), QuietHours("Europe/Berlin"))  # 22:00 CEST
    assert sent == at(2026, 10, 25, 8, 0)  # 09:00 CET (UTC+1)


def test_a_quiet_end_inside_the_skipped_hour_moves_to_the_first_real_minute_after_it():
    q = QuietHours("America/New_York", time(1, 0), time(2, 30))  # 02:30 does not exist on 2026-03-08
    assert next_allowed(at(2026, 3, 8, 6, 15), q) == at(2026, 3, 8, 7, 0)  # 01:15 EST -> 03:00 EDT


def test_a_quiet_window_inside_a_repeated_hour_ends_at_its_first_end():
    q = QuietHours("Europe/Berlin", time(2, 0), time(2, 30))  # 02:00-02:59 happens twice on 2026-10-25
    assert next_allowed(at(2026, 10, 25, 0, 10), q) == at(2026, 10, 25, 0, 30)  # 02:10 CEST -> 02:30 CEST
    assert next_allowed(at(2026, 10, 25, 1, 10), q) == at(2026, 10, 25, 1, 30)  # 02:10 CET -> 02:30 CET


def test_a_daytime_window_that_does_not_wrap_midnight():
    q = QuietHours("Asia/Kolkata", time(13, 0), time(14, 0))
    assert next_allowed(at(2026, 5, 5, 7, 45), q) == at(2026, 5, 5, 8, 30)  # 13:15 IST -> 14:00 IST


def test_equal_start_and_end_means_no_quiet_hours():
    instant = at(2026, 1, 1, 23, 0)
    assert next_allowed(instant, QuietHours("UTC", time(9, 0), time(9, 0))) == instant


@pytest.mark.parametrize("zone", ["Pacific/Chatham", "Australia/Lord_Howe", "America/St_Johns", "Asia/Kathmandu"])
def test_every_few_hours_of_a_year_lands_outside_quiet_hours_and_never_earlier_than_asked(zone):
    q = QuietHours(zone)
    t = at(2026, 1, 1, 0, 7)
    while t < at(2027, 1, 1):
        sent = next_allowed(t, q)
        assert sent >= t and not q.quiet_at(sent.astimezone(__import__("zoneinfo").ZoneInfo(zone)))
        assert sent - t < timedelta(hours=14)
        t += timedelta(hours=3, minutes=7)


def test_a_notification_is_eventbridge_ready_and_scheduled_outside_quiet_hours():
    n = notify("e1", "M-1", "RewardEarned", {"amount": 5}, at(2026, 1, 1, 22, 0), QuietHours("UTC"))
    entry = n.eventbridge_entry()
    assert entry["Source"] == "upline.members" and entry["DetailType"] == "RewardEarned"
    assert '"amount": 5' in entry["Detail"] and n.not_before == at(2026, 1, 2, 9, 0)


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "", "x" * 80])
def test_unknown_time_zones_are_refused(name):
    with pytest.raises(InvalidInput):
        check_tz(name)
