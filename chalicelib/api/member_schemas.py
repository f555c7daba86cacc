"""Request bodies for members: pydantic at the edge, refused with a 400 before any service runs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, StringConstraints

from .schemas import Body, Bps, Currency, Id, Instant

Secretish = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
InviteCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{4,16}$")]
HHMM = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
TzName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+){0,2}$", max_length=64)]
Count = Annotated[StrictInt, Field(ge=0, le=1_000_000_000)]


class RegisterMember(Body):
    """From the shop (signed). Email, phone and payment fingerprint may come raw or already hashed
    by the shop; Upline stores only its own keyed hash of each."""

    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    email: Secretish
    phone: Secretish | None = None
    payment_fingerprint: Secretish | None = None
    invite_code: InviteCode | None = None
    time_zone: TzName = "UTC"
    quiet_start: HHMM = "21:00"
    quiet_end: HHMM = "09:00"


class RewardIn(Body):
    kind: Literal["points", "credit", "coupon"]
    amount: Count


class TierRuleIn(Body):
    tier: Literal["normal", "bronze", "silver", "gold"]
    min_spend_minor: Count
    min_orders: Annotated[StrictInt, Field(ge=0, le=100_000)]
    discount_bps: Bps
    advocate_multiplier_bps: Annotated[StrictInt, Field(ge=0, le=100_000)] = 10_000


class TiersIn(Body):
    rules: Annotated[list[TierRuleIn], Field(min_length=4, max_length=4)] | None = None
    window_days: Annotated[StrictInt, Field(ge=1, le=366)] = 30
    invite_weight: Annotated[StrictInt, Field(ge=0, le=100)] = 1
    grace_months: Annotated[StrictInt, Field(ge=0, le=12)] = 1
    require_both: StrictBool = False


class RewardProgramIn(Body):
    currency: Currency = "USD"
    friend_reward: RewardIn = RewardIn(kind="coupon", amount=1_000)
    advocate_reward: RewardIn = RewardIn(kind="points", amount=1_000)
    min_order_minor: Count = 2_000
    holding_days: Annotated[StrictInt, Field(ge=0, le=365)] = 30
    expiry_days: Annotated[StrictInt, Field(ge=1, le=3650)] = 365
    coupon_days: Annotated[StrictInt, Field(ge=1, le=3650)] = 90
    cap_per_month: Annotated[StrictInt, Field(ge=0, le=10_000)] = 5
    cap_per_year: Annotated[StrictInt, Field(ge=0, le=10_000)] = 20
    point_value_minor: Annotated[StrictInt, Field(ge=1, le=10_000)] = 1
    expiry_notice_days: Annotated[StrictInt, Field(ge=0, le=365)] = 14
    tiers: TiersIn = TiersIn()
    effective_from: Instant | None = None


class RedeemIn(Body):
    redemption_id: Id
    unit: Literal["points", "credit"]
    amount: Annotated[StrictInt, Field(ge=1, le=1_000_000_000)]
    for_order: Id | None = None
