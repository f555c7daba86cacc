from datetime import datetime, timedelta, timezone

from chalicelib.domain.attribution import (BINDING, CLICK, REFERRAL_CODE, AttributionRules, BindingRef,
                                           ClickRef, attribute)

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
RULES = AttributionRules(window=timedelta(days=30))


def click(days_ago: float, partner="P-CLICK"):
    return ClickRef("c1", partner, NOW - timedelta(days=days_ago))


def test_click_beats_referral_code_and_binding():
    a = attribute(NOW, click(1), "P-CODE", BindingRef("P-BOUND", NOW + timedelta(days=3)), RULES)
    assert (a.partner_id, a.source) == ("P-CLICK", CLICK)


def test_referral_code_beats_binding():
    a = attribute(NOW, None, "P-CODE", BindingRef("P-BOUND", NOW + timedelta(days=3)), RULES)
    assert (a.partner_id, a.source) == ("P-CODE", REFERRAL_CODE)
    assert a.new_binding is None  # the customer stays bound to the first partner


def test_live_binding_attributes_a_repeat_order():
    a = attribute(NOW, None, None, BindingRef("P-BOUND", NOW + timedelta(days=3)), RULES)
    assert (a.partner_id, a.source) == ("P-BOUND", BINDING)


def test_expired_binding_and_stale_click_attribute_nothing():
    assert attribute(NOW, click(31), None, BindingRef("P-BOUND", NOW - timedelta(seconds=1)), RULES) is None


def test_first_attribution_binds_the_customer_for_the_window_from_the_click():
    a = attribute(NOW, click(10), None, None, RULES)
    assert a.new_binding == BindingRef("P-CLICK", NOW - timedelta(days=10) + timedelta(days=30))


def test_lifetime_binding_never_expires():
    a = attribute(NOW, None, "P-CODE", None, AttributionRules(lifetime_binding=True))
    assert a.new_binding == BindingRef("P-CODE", None)
    assert attribute(NOW + timedelta(days=3000), None, None, a.new_binding, RULES).partner_id == "P-CODE"


def test_a_click_after_the_order_does_not_count():
    assert attribute(NOW, ClickRef("c1", "P", NOW + timedelta(hours=1)), None, None, RULES) is None
