"""A shop provider's commands (integrations/commands.py) through the same order and refund services
as the generic webhook, so an order's commissions are computed exactly as there.

Ids: the provider's order id becomes the Upline order id `<provider>:<id>` (Shopify order 1001 and
WooCommerce order 1001 are different orders). Idempotency: every command's ids are deterministic
functions of the payload (the order id, the provider's refund id, Stripe's cumulative refund level),
and its fingerprint is a hash of the mapped command without the event id, so a redelivery, or the
same order in another delivery, replays the recorded result and writes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.attribution import AttributionRules
from ..domain.errors import Conflict
from ..domain.fraud import FraudRules
from ..domain.money import check_amount, check_currency
from ..domain.orders import OrderCommand, RecordedOrder, RefundCommand, Renewal
from ..domain.periods import Calendar
from ..domain.standing import TreeRules
from ..integrations.commands import (
    LOST,
    OPENED,
    GoodsRefund,
    Ignored,
    PaymentShareRefund,
    RemainderRefund,
    ShopDispute,
    ShopOrder,
    ShopRefund,
)
from ..security import identity_hashes, keyed_hash
from ..store.uow import UnitOfWork
from . import disputes
from . import orders as svc

IGNORED = "ignored"


@dataclass(frozen=True)
class ShopRules:
    """What the order services need from the settings."""

    pepper: str
    currencies: frozenset[str]
    rules: AttributionRules
    cal: Calendar
    fraud_rules: FraudRules | None
    tree: TreeRules


def upline_order_id(provider: str, order_id: str) -> str:
    return f"{provider}:{order_id}"


def email_identity(pepper: str, email: str) -> str:
    """The buyer's e-mail as the keyed identity hash the fraud checks compare with partners' own."""
    return identity_hashes(pepper, email=email)[0]


def command_fingerprint(command: Any) -> str:
    """What the command means, without the delivery that carried it."""
    body = dataclasses.asdict(command)
    body.pop("event_id", None)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def ignored(command: Any, reason: str) -> svc.Outcome:
    return svc.Outcome({"status": IGNORED, "reason": reason, "event_id": command.event_id}, created=False)


def place_order(uow: UnitOfWork, o: ShopOrder, r: ShopRules, now: datetime) -> svc.Outcome:
    currency = check_currency(o.currency, r.currencies)
    order_id = upline_order_id(o.provider, o.order_id)
    customer = keyed_hash(r.pepper, o.customer_id) if o.customer_id else None  # as the generic webhook hashes it
    # No customer id and no e-mail: the order is its own customer (it binds nobody else's orders).
    customer_hash = customer or o.customer_email_hash or keyed_hash(r.pepper, f"{order_id}:customer")
    cmd = OrderCommand(
        order_id=order_id,
        customer_hash=customer_hash,
        amount_minor=check_amount(o.amount_minor),
        currency=currency,
        ordered_at=o.occurred_at,
        fingerprint=command_fingerprint(o),
        click_id=o.click_id,
        referral_code=o.referral_code,
        coupon_code=o.coupon_codes[0] if o.coupon_codes else None,
        identity_hashes=tuple(h for h in (customer, o.customer_email_hash) if h),
    )
    links: list[Any] = uow.shops.links(order_id, o.provider, o.payment_intent, o.prices_include_tax)
    if o.subscription_id:
        period_start = o.billing_period_start or o.occurred_at
        started = uow.shops.subscription_started(o.provider, o.subscription_id) or period_start
        cmd = dataclasses.replace(cmd, renewal=Renewal(o.subscription_id, started, period_start))
        links.append(uow.shops.subscription(o.provider, o.subscription_id, started))
    return svc.attribute_order(uow, cmd, r.rules, now, r.cal, r.fraud_rules, tree=r.tree, also=links)


def dispute(uow: UnitOfWork, d: ShopDispute, r: ShopRules, now: datetime) -> svc.Outcome:
    """Opened: the order's commissions are held; won: released; lost: the order is refunded in full
    (services/disputes.py). A dispute closed that Upline never saw open holds nothing: lost, it is
    a refund of what is left; won, nothing changes."""
    check_currency(d.currency, r.currencies)
    order_id = uow.shops.order_for_payment(d.provider, d.payment_intent) if d.payment_intent else None
    if order_id is None:
        return ignored(d, "no order Upline recorded was paid by the disputed payment")
    if d.status == OPENED:
        result, created = disputes.opened(uow, order_id, d.dispute_id, d.occurred_at, now, r.cal)
        return svc.Outcome(result, created)
    closed = disputes.closed(uow, order_id, d.dispute_id, d.status, d.occurred_at, now, r.cal)
    if closed is not None:
        return svc.Outcome(*closed)
    if d.status == LOST:
        return refund(uow, dispute_refund(d), r, now)
    return ignored(d, "the dispute was won and Upline held nothing for it")


def dispute_refund(d: ShopDispute) -> ShopRefund:
    """A lost dispute Upline never saw open: a refund of what is left of the order."""
    return ShopRefund(
        provider=d.provider,
        event_id=d.event_id,
        refund_id=f"{d.dispute_id}:lost",
        amount=RemainderRefund(),
        currency=d.currency,
        occurred_at=d.occurred_at,
        payment_intent=d.payment_intent,
        charge_id=d.charge_id,
    )


def _amount(amount: Any, order: RecordedOrder, prices_include_tax: bool) -> int:
    """The share of the order's commission base the refund takes back, never more than is left."""
    left = order.amount_minor - order.refunded_minor
    if isinstance(amount, RemainderRefund):
        return left
    if isinstance(amount, GoodsRefund):
        tax_inside = amount.includes_tax if amount.includes_tax is not None else prices_include_tax
        return min(amount.amount_minor - (amount.tax_minor if tax_inside else 0), left)
    if isinstance(amount, PaymentShareRefund):
        share = order.amount_minor * min(amount.refunded_minor, amount.paid_minor) // amount.paid_minor
        # Cumulative (Stripe's amount_refunded): only the increase over what the order has had refunded.
        return min(share - order.refunded_minor if amount.cumulative else share, left)
    raise TypeError(f"unknown refund amount {amount!r}")


def refund(uow: UnitOfWork, f: ShopRefund, r: ShopRules, now: datetime) -> svc.Outcome:
    currency = check_currency(f.currency, r.currencies)
    if f.order_id is not None:
        order_id = upline_order_id(f.provider, f.order_id)
    else:
        ref = f.payment_intent
        found = uow.shops.order_for_payment(f.provider, ref) if ref else None
        if found is None:
            return ignored(f, "no order Upline recorded was paid by this payment")
        order_id = found
    fingerprint = command_fingerprint(f)
    order, recorded = uow.orders.refund_context(order_id, f.refund_id)
    if recorded is not None:  # a redelivery: the service replays it (or refuses another body)
        if recorded.fingerprint != fingerprint:
            raise Conflict("this refund id was already used with a different body", code="idempotency_conflict")
        return svc.Outcome(recorded.result, created=False)
    if order is not None and order.dispute_open:
        return ignored(
            f,
            f"the order's payment is under dispute ({order.dispute_open}): its commissions are held "
            "until the dispute closes",
        )
    if order is None:
        # Not 404: a provider retries a failing delivery for hours and Shopify then drops the
        # subscription; an order Upline never recorded (placed before the integration, a test order)
        # has no commission to reverse.
        return ignored(f, f"no order {order_id} is recorded")
    amount = _amount(
        f.amount,
        order,
        uow.shops.prices_include_tax(order_id)
        if isinstance(f.amount, GoodsRefund) and f.amount.includes_tax is None
        else False,
    )
    if amount <= 0:
        return ignored(f, "nothing of the order is left to refund for this event")
    cmd = RefundCommand(
        order_id=order_id,
        refund_id=f.refund_id,
        amount_minor=amount,
        currency=currency,
        refunded_at=f.occurred_at,
        fingerprint=fingerprint,
    )
    return svc.refund_order(uow, cmd, now, r.cal)


def apply(uow: UnitOfWork, command: Any, r: ShopRules, now: datetime) -> svc.Outcome:
    if isinstance(command, ShopOrder):
        return place_order(uow, command, r, now)
    if isinstance(command, ShopRefund):
        return refund(uow, command, r, now)
    if isinstance(command, ShopDispute):
        return dispute(uow, command, r, now)
    if isinstance(command, Ignored):
        return ignored(command, command.reason)
    raise TypeError(f"unknown command {command!r}")
