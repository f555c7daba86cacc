"""Which partner an order belongs to: a click id, then a partner's coupon code, then a referral code,
then an existing binding (docs/rules.md, "Attribution")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

CLICK, COUPON, REFERRAL_CODE, BINDING = "click", "coupon", "referral_code", "binding"
# The shop's clock and ours may differ a little; a click may look a moment younger than its order.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class ClickRef:
    click_id: str
    partner_id: str
    clicked_at: datetime


@dataclass(frozen=True)
class BindingRef:
    partner_id: str
    bound_until: datetime | None  # None: bound for life
    # The partner's ancestors as last known: lets an order read them at once.
    upline_hint: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Attribution:
    partner_id: str
    source: str
    click_id: str | None = None
    # The binding this order creates, if the customer had none in force.
    new_binding: BindingRef | None = None


@dataclass(frozen=True)
class AttributionRules:
    window: timedelta = timedelta(days=30)
    lifetime_binding: bool = False

    def binding_live(self, binding: BindingRef | None, at: datetime) -> bool:
        return binding is not None and (binding.bound_until is None or at < binding.bound_until)


def attribute(
    ordered_at: datetime,
    click: ClickRef | None,
    code_partner_id: str | None,
    binding: BindingRef | None,
    rules: AttributionRules,
    coupon_partner_id: str | None = None,
) -> Attribution | None:
    """Decide attribution by precedence: click, coupon, referral code, binding. A click counts within
    the window before the order. A coupon comes before a referral code because the buyer typed it at
    the checkout of this very order; a click still comes first because it is the more specific
    evidence (the coupon may have leaked; the click is this visitor's)."""
    live = rules.binding_live(binding, ordered_at)

    def bind(partner_id: str, start: datetime) -> BindingRef | None:
        if live:
            return None  # the first attribution keeps the customer
        return BindingRef(partner_id, None if rules.lifetime_binding else start + rules.window)

    if click is not None and click.clicked_at - CLOCK_SKEW <= ordered_at < click.clicked_at + rules.window:
        return Attribution(click.partner_id, CLICK, click.click_id, bind(click.partner_id, click.clicked_at))
    if coupon_partner_id is not None:
        return Attribution(coupon_partner_id, COUPON, None, bind(coupon_partner_id, ordered_at))
    if code_partner_id is not None:
        return Attribution(code_partner_id, REFERRAL_CODE, None, bind(code_partner_id, ordered_at))
    if live and binding is not None:  # a live binding is never None; the check tells the type checker
        return Attribution(binding.partner_id, BINDING)
    return None
