"""Plans' renewal_months: calendar months from the subscription's first paid period."""
from datetime import datetime, timezone

from chalicelib.domain.plans import Plan, add_months, renewal_pays

UTC = timezone.utc
START = datetime(2026, 1, 31, 9, tzinfo=UTC)


def test_months_are_calendar_months_ending_on_the_shorter_months_last_day():
    assert add_months(START, 1) == datetime(2026, 2, 28, 9, tzinfo=UTC)
    assert add_months(START, 13) == datetime(2027, 2, 28, 9, tzinfo=UTC)
    assert add_months(datetime(2027, 11, 30, tzinfo=UTC), 3) == datetime(2028, 2, 29, tzinfo=UTC)


def test_a_renewal_pays_before_the_limit_and_not_from_it_and_every_renewal_pays_without_one():
    plan = Plan(1, START, (1000,), renewal_months=3)
    assert renewal_pays(plan, START, datetime(2026, 4, 30, 8, 59, tzinfo=UTC))  # a minute before 3 months: still in
    assert not renewal_pays(plan, START, add_months(START, 3))
    assert renewal_pays(Plan(1, START, (1000,)), START, add_months(START, 120))
