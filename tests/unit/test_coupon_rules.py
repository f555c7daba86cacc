"""The pure rules of partners' coupon codes: what a code may be, and the leak windows."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.coupons import CouponLimits, LeakRule, check_coupon_code
from chalicelib.domain.errors import InvalidInput

UTC = timezone.utc


def test_a_coupon_code_is_kept_upper_case_and_members_prefixes_are_refused():
    assert check_coupon_code("summer-10") == "SUMMER-10"
    for code in ("F-ABC", "r-abc", "x", "has space", "é-code"):
        with pytest.raises(InvalidInput):
            check_coupon_code(code)


def test_uses_fall_in_fixed_windows_and_the_rule_counts_distinct_customers():
    rule = LeakRule(customers=3, window=timedelta(hours=24))
    start = rule.window_of(datetime(2026, 3, 4, 23, 59, tzinfo=UTC))
    assert start == datetime(2026, 3, 4, tzinfo=UTC)
    assert rule.window_of(datetime(2026, 3, 5, 0, 0, tzinfo=UTC)) == start + timedelta(hours=24)
    assert (rule.leaked(2), rule.leaked(3)) == (False, True)


def test_a_partner_at_its_limit_is_refused_with_a_reason():
    assert CouponLimits(2).refusal(1) is None
    refusal = CouponLimits(2).refusal(2)
    assert refusal is not None and refusal.code == "coupon_limit"
