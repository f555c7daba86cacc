"""Stripe events as Upline commands. Amounts are integers in Stripe's smallest unit of the
currency, which is ISO 4217's minor unit except where Stripe says otherwise (below)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.errors import InvalidInput
from ..domain.money import iso_exponent, rescale_minor
from . import payload as p
from .commands import (
    LOST,
    OPENED,
    STRIPE,
    WON,
    Command,
    Ignored,
    PaymentShareRefund,
    ShopDispute,
    ShopOrder,
    ShopRefund,
)
from .errors import PayloadRefused
from .signatures import Delivery

# docs.stripe.com/currencies: ISK stays a two-decimal currency in Stripe's API (amounts in
# multiples of 100) though ISO counts whole kronur; MGA is zero-decimal in Stripe, two in ISO.
STRIPE_EXPONENT_DIFFERS = {"ISK": 2, "MGA": 0}
# Dispute states a closed dispute ends in. "warning_closed" is an inquiry that closed without
# becoming a chargeback and "prevented" one stopped before it was; both leave the money with us.
_CLOSED = {"won": WON, "warning_closed": WON, "prevented": WON, "lost": LOST}


def _money(amount: int, currency: str) -> int:
    try:
        return rescale_minor(
            amount, STRIPE_EXPONENT_DIFFERS.get(currency, iso_exponent(currency)), iso_exponent(currency)
        )
    except InvalidInput as e:
        raise PayloadRefused(e.message, code=e.code) from None


def _meta(data: Any, key: str) -> Any:
    return p.at(data, "metadata", key)


def to_commands(delivery: Delivery, *, hash_email: Callable[[str], str]) -> tuple[Command, ...]:
    """The commands one Stripe event asks for; an event Upline does not use is Ignored."""
    event, kind = delivery.payload, delivery.topic
    obj = p.obj(event, "data", "object")
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        return (_checkout(delivery, obj, hash_email),)
    if kind == "invoice.paid":
        return (_invoice(delivery, obj, hash_email),)
    if kind == "charge.refunded":
        return (_refund(delivery, obj),)
    if kind in ("charge.dispute.created", "charge.dispute.closed"):
        return (_dispute(delivery, obj, closed=kind.endswith("closed")),)
    return (Ignored(STRIPE, delivery.delivery_id, f"{kind} is not an event Upline uses"),)


def _checkout(d: Delivery, session: dict, hash_email: Callable[[str], str]) -> Command:
    if session.get("mode") != "payment":
        # A subscription's first payment is its first invoice: invoice.paid carries each one.
        return Ignored(STRIPE, d.delivery_id, f"checkout in {session.get('mode')!r} mode: invoice.paid is the order")
    if session.get("payment_status") != "paid":
        # "unpaid": a delayed method; checkout.session.async_payment_succeeded follows when it pays.
        return Ignored(STRIPE, d.delivery_id, f"payment_status is {session.get('payment_status')!r}")
    currency = p.currency(session, "currency")
    # amount_total is after discounts and includes tax and shipping; total_details says how much.
    gross = p.integer(session, "amount_total")
    tax = p.integer(session, "total_details", "amount_tax", default=0)
    shipping = p.integer(session, "total_details", "amount_shipping", default=0)
    base = gross - tax - shipping
    if base <= 0:
        return Ignored(STRIPE, d.delivery_id, "nothing was paid for goods")
    email = p.optional_text(session, "customer_details", "email")
    return ShopOrder(
        provider=STRIPE,
        event_id=d.delivery_id,
        order_id=p.provider_id(session, "id"),
        amount_minor=_money(base, currency),
        currency=currency,
        occurred_at=p.epoch(d.payload, "created"),
        customer_id=p.optional_id(session, "customer"),
        customer_email_hash=hash_email(email) if email else None,
        click_id=p.click_id(session.get("client_reference_id")) or p.click_id(_meta(session, "upline_click")),
        referral_code=p.code(_meta(session, "upline_ref")),
        # The partner coupon code the buyer typed, copied by the shop's checkout code (a Stripe
        # promotion code reaches the event only as an id).
        coupon_codes=p.codes([_meta(session, "upline_coupon")]),
        payment_intent=p.optional_id(session, "payment_intent"),
    )


def _subscription_details(invoice: dict) -> Any:
    # API 2025-03-31 moved these under invoice.parent; older versions keep them at the top level.
    return p.at(invoice, "parent", "subscription_details") or p.at(invoice, "subscription_details")


def _period_start(invoice: dict) -> Any:
    """The service period the invoice pays for, from its subscription lines: invoice.period_start
    is when invoice items could be added, which for a subscription is the previous period."""
    starts = [
        p.at(line, "period", "start")
        for line in p.items(invoice, "lines", "data")
        if p.at(line, "parent", "type") == "subscription_item_details" or p.at(line, "type") == "subscription"
    ]
    starts = [s for s in starts if isinstance(s, int) and not isinstance(s, bool)]
    return p.epoch({"s": min(starts)}, "s") if starts else None


def _invoice(d: Delivery, invoice: dict, hash_email: Callable[[str], str]) -> Command:
    currency = p.currency(invoice, "currency")
    total = p.integer(invoice, "total")
    excluding_tax = p.at(invoice, "total_excluding_tax")
    if not isinstance(excluding_tax, int) or isinstance(excluding_tax, bool):
        raise PayloadRefused("invoice.total_excluding_tax is missing", code="invalid_payload")
    # Commission base = new money paid for goods: amount_paid, less what was overpaid (credited to
    # the customer's balance), less all of the invoice's tax (owed on the whole invoice however it
    # was paid), less shipping before tax. Paid from an existing balance or credit is not new money:
    # it earned its commission when it was paid. Capped by the goods' value after discounts.
    tax = total - excluding_tax
    shipping = p.integer(invoice, "shipping_cost", "amount_subtotal", default=0)
    paid = p.integer(invoice, "amount_paid") - p.integer(invoice, "amount_overpaid", default=0)
    base = min(paid - tax - shipping, excluding_tax - shipping)
    if base <= 0:
        return Ignored(STRIPE, d.delivery_id, "nothing was paid for goods (a trial, a credit, a zero invoice)")
    details = _subscription_details(invoice)
    email = p.optional_text(invoice, "customer_email")
    intents = [p.at(pay, "payment", "payment_intent") for pay in p.items(invoice, "payments", "data")]
    return ShopOrder(
        provider=STRIPE,
        event_id=d.delivery_id,
        order_id=p.provider_id(invoice, "id"),
        amount_minor=_money(base, currency),
        currency=currency,
        occurred_at=p.epoch(d.payload, "created"),
        customer_id=p.optional_id(invoice, "customer"),
        customer_email_hash=hash_email(email) if email else None,
        click_id=p.click_id(_meta(details, "upline_click")) or p.click_id(_meta(invoice, "upline_click")),
        referral_code=p.code(_meta(details, "upline_ref")) or p.code(_meta(invoice, "upline_ref")),
        coupon_codes=p.codes([_meta(details, "upline_coupon"), _meta(invoice, "upline_coupon")]),
        payment_intent=p.optional_id(invoice, "payment_intent")
        or next((p.optional_id({"v": i}, "v") for i in intents if i), None),
        subscription_id=p.optional_id(details, "subscription") or p.optional_id(invoice, "subscription"),
        billing_period_start=_period_start(invoice),
    )


def _refund(d: Delivery, charge: dict) -> Command:
    currency = p.currency(charge, "currency")
    captured = p.integer(charge, "amount_captured")
    refunded = p.integer(charge, "amount_refunded")
    if captured <= 0:
        return Ignored(STRIPE, d.delivery_id, "an uncaptured authorization was released, nothing was paid")
    if not 0 < refunded <= captured:
        raise PayloadRefused("amount_refunded is outside 1..amount_captured", code="invalid_payload")
    charge_id = p.provider_id(charge, "id")
    return ShopRefund(
        provider=STRIPE,
        event_id=d.delivery_id,
        # One id per cumulative level: a redelivery repeats it, the next partial refund does not.
        refund_id=f"{charge_id}:refunded:{refunded}",
        amount=PaymentShareRefund(
            refunded_minor=_money(refunded, currency), paid_minor=_money(captured, currency), cumulative=True
        ),
        currency=currency,
        occurred_at=p.epoch(d.payload, "created"),
        payment_intent=p.optional_id(charge, "payment_intent"),
        charge_id=charge_id,
        # Listed only when the event's API version still embeds charge.refunds (before 2022-11-15).
        refund_ids=tuple(p.provider_id(r, "id") for r in p.items(charge, "refunds", "data")),
    )


def _dispute(d: Delivery, dispute: dict, *, closed: bool) -> Command:
    status = OPENED
    if closed:
        closed_as = _CLOSED.get(str(dispute.get("status")))
        if closed_as is None:
            return Ignored(STRIPE, d.delivery_id, f"dispute closed as {dispute.get('status')!r}")
        status = closed_as
    currency = p.currency(dispute, "currency")
    return ShopDispute(
        provider=STRIPE,
        event_id=d.delivery_id,
        dispute_id=p.provider_id(dispute, "id"),
        status=status,
        amount_minor=_money(p.integer(dispute, "amount"), currency),
        currency=currency,
        occurred_at=p.epoch(d.payload, "created"),
        payment_intent=p.optional_id(dispute, "payment_intent"),
        charge_id=p.optional_id(dispute, "charge"),
    )
