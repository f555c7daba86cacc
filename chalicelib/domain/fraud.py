"""Fraud signals on an order: any of them puts the order's commissions on hold for review."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

RING, FAST_ORDER, REFUNDS = "self_referral_ring", "click_to_order_too_short", "partner_refund_rate"

# Each reason in words, for the reviewer (the portal has its own translations, keyed by the code).
REASONS = {
    RING: "the buyer's email, phone, payment card or customer id belongs to a partner in the commission chain",
    FAST_ORDER: "the order came too soon after the click that attributes it (a bot?)",
    REFUNDS: "the attributed partner's refunded commissions exceed the allowed share of its credited ones",
}


def explain(reason: str) -> str:
    """A hold reason in words; a code this version does not know is shown as it is."""
    return REASONS.get(reason, reason)


@dataclass(frozen=True)
class FraudRules:
    min_click_to_order: timedelta = timedelta(seconds=30)
    max_refund_rate_bps: int = 5_000
    refund_rate_min_credited_minor: int = 10_000  # no refund-rate verdict on tiny histories


def assess(
    rules: FraudRules,
    *,
    buyer_is_partner: Iterable[str],
    chain: Iterable[str],
    clicked_at: datetime | None,
    ordered_at: datetime,
    counters: Mapping[str, int],
    currency: str,
) -> list[str]:
    """The reasons to hold, in a stable order; empty means pay as usual.

    - the buyer's hashed email, phone, payment fingerprint or customer id belongs to a partner in
      the commission chain (the attributed partner or anyone above it): a self-referral ring;
    - the order came less than `min_click_to_order` after the click that attributes it (a bot);
    - the attributed partner's reversed commissions exceed `max_refund_rate_bps` of its credited
      ones in this currency (orders placed to be refunded)."""
    reasons = []
    if set(buyer_is_partner) & set(chain):
        reasons.append(RING)
    if clicked_at is not None and ordered_at - clicked_at < rules.min_click_to_order:
        reasons.append(FAST_ORDER)
    credited = int(counters.get(f"credited_{currency}", 0))
    reversed_ = int(counters.get(f"reversed_{currency}", 0))
    if credited >= rules.refund_rate_min_credited_minor and reversed_ * 10_000 > credited * rules.max_refund_rate_bps:
        reasons.append(REFUNDS)
    return reasons
