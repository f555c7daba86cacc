"""Paddle Billing notifications as Upline commands. Amounts are strings of integers in the
currency's lowest denomination ("65215" USD is 652.15)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import payload as p
from .commands import PADDLE, Command, GoodsRefund, Ignored, ShopOrder, ShopRefund
from .errors import PayloadRefused
from .signatures import Delivery


def to_commands(delivery: Delivery, *, hash_email: Callable[[str], str]) -> tuple[Command, ...]:
    """`transaction.completed` is an order; an approved refund adjustment is a refund."""
    data = p.obj(delivery.payload, "data")
    if delivery.topic == "transaction.completed":
        return (_transaction(delivery, data),)
    if delivery.topic in ("adjustment.created", "adjustment.updated"):
        return (_adjustment(delivery, data),)
    return (Ignored(PADDLE, delivery.delivery_id, f"{delivery.topic} is not an event Upline uses"),)


def _custom(data: dict, key: str) -> Any:
    return p.at(data, "custom_data", key)


def _transaction(d: Delivery, txn: dict) -> Command:
    totals = p.obj(txn, "details", "totals")
    currency = p.currency(txn, "currency_code")
    # totals: subtotal (before discount and tax), discount, tax, total = subtotal - discount + tax,
    # credit (from the customer's balance), grand_total = total - credit. Commission base = the
    # new money paid for goods: grand_total less all tax, i.e. subtotal - discount - credit, and
    # never more than subtotal - discount. With no credit it is exactly "after discount, before tax".
    goods = p.minor_string(totals, "subtotal") - p.minor_string(totals, "discount")
    base = min(p.minor_string(totals, "grand_total") - p.minor_string(totals, "tax"), goods)
    if base <= 0:
        return Ignored(PADDLE, d.delivery_id, "nothing was paid for goods")
    period = p.at(txn, "billing_period", "starts_at")
    return ShopOrder(
        provider=PADDLE,
        event_id=d.delivery_id,
        order_id=p.provider_id(txn, "id"),
        amount_minor=base,
        currency=currency,
        occurred_at=p.instant(d.payload, "occurred_at"),
        customer_id=p.optional_id(txn, "customer_id"),
        click_id=p.click_id(_custom(txn, "upline_click")),
        referral_code=p.code(_custom(txn, "upline_ref")),
        subscription_id=p.optional_id(txn, "subscription_id"),
        billing_period_start=p.instant(txn, "billing_period", "starts_at") if period else None,
    )


def _adjustment(d: Delivery, adj: dict) -> Command:
    action, status = adj.get("action"), adj.get("status")
    if action != "refund":
        return Ignored(PADDLE, d.delivery_id, f"adjustment action {action!r} is not a refund")
    if status != "approved":
        # pending_approval is followed by adjustment.updated once Paddle approves (or rejects) it.
        return Ignored(PADDLE, d.delivery_id, f"refund adjustment is {status!r}, not approved")
    # totals.subtotal is the refunded amount before tax; totals.total = subtotal + tax.
    refunded = p.minor_string(adj, "totals", "subtotal")
    if refunded <= 0:
        raise PayloadRefused("adjustment totals.subtotal is not a positive amount", code="invalid_payload")
    return ShopRefund(
        provider=PADDLE,
        event_id=d.delivery_id,
        refund_id=p.provider_id(adj, "id"),
        amount=GoodsRefund(amount_minor=refunded, includes_tax=False),
        currency=p.currency(adj, "currency_code"),
        occurred_at=p.instant(d.payload, "occurred_at"),
        order_id=p.provider_id(adj, "transaction_id"),
    )
