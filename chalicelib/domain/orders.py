"""Orders and refunds as the shop reports them, and what Upline recorded for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .ledger import Entry


@dataclass(frozen=True)
class OrderCommand:
    order_id: str
    customer_hash: str
    amount_minor: int
    currency: str
    ordered_at: datetime
    fingerprint: str  # hash of the request body: same id with another body is a conflict
    click_id: str | None = None
    referral_code: str | None = None
    coupon_code: str | None = None  # a member coupon the shop applied (members)
    payment_hash: str | None = None  # keyed hash of the card's fingerprint (members: self-invite check)
    # Keyed hashes of the buyer's customer id, email, phone, payment fingerprint (fraud checks).
    identity_hashes: tuple[str, ...] = ()
    renewal: Renewal | None = None  # a subscription's payment (shop integrations)


@dataclass(frozen=True)
class Renewal:
    """A subscription payment: when the subscription's first paid period started, and this one."""

    subscription_id: str
    started_at: datetime
    period_start: datetime


@dataclass(frozen=True)
class RefundCommand:
    order_id: str
    refund_id: str
    amount_minor: int
    currency: str
    refunded_at: datetime
    fingerprint: str


@dataclass(frozen=True)
class RecordedOrder:
    order_id: str
    fingerprint: str
    amount_minor: int
    currency: str
    ordered_at: datetime
    refunded_minor: int
    entries: tuple[Entry, ...]  # the commissions it credited
    result: dict[str, Any] = field(default_factory=dict)
    attributed_to: str | None = None  # the partner whose volume it counts toward
    period: str = ""  # where its entries and volume landed
    settles_in: str = ""  # whose settlement pays its entries ("HOLD": none, until released)
    rejected: bool = False  # held for good: an admin rejected its commissions
    dispute_open: str | None = None  # a chargeback of its payment that has not closed (its id)


@dataclass(frozen=True)
class RecordedRefund:
    order_id: str
    refund_id: str
    fingerprint: str
    result: dict[str, Any]
