"""Shopify topics as Upline commands. Money arrives as decimal strings in the shop's currency
(`shop_money`), converted exactly by the currency's ISO 4217 exponent or refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import payload as p
from .commands import SHOPIFY, Command, GoodsRefund, Ignored, RemainderRefund, ShopOrder, ShopRefund
from .errors import PayloadRefused
from .signatures import Delivery


def to_commands(delivery: Delivery, *, hash_email: Callable[[str], str]) -> tuple[Command, ...]:
    """The commands one Shopify delivery asks for; a topic Upline does not use is Ignored."""
    body = delivery.payload
    if delivery.topic == "orders/paid":
        return (_paid(delivery, body, hash_email),)
    if delivery.topic == "refunds/create":
        return (_refund(delivery, body),)
    if delivery.topic == "orders/cancelled":
        return (_cancelled(delivery, body),)
    return (Ignored(SHOPIFY, delivery.delivery_id, f"{delivery.topic} is not a topic Upline uses"),)


def _shop_money(data: Any, field: str) -> tuple[int, str]:
    """A `*_set.shop_money` amount and its currency."""
    money = p.obj(data, field, "shop_money")
    currency = p.currency(money, "currency_code")
    return p.decimal_money(money.get("amount"), currency, f"{field}.shop_money.amount"), currency


def _note(order: dict, name: str) -> Any:
    for attribute in p.items(order, "note_attributes"):
        if p.at(attribute, "name") == name:
            return p.at(attribute, "value")
    return None


def _shipping_tax(order: dict, currency: str) -> int:
    total = 0
    for line in p.items(order, "shipping_lines"):
        for tax in p.items(line, "tax_lines"):
            amount = p.at(tax, "price_set", "shop_money", "amount") or p.at(tax, "price")
            total += p.decimal_money(amount, currency, "shipping_lines.tax_lines.price")
    return total


def _paid(d: Delivery, order: dict, hash_email: Callable[[str], str]) -> Command:
    if order.get("test") is True:
        # Bogus-gateway orders a merchant places to try the checkout: no money moved.
        return Ignored(SHOPIFY, d.delivery_id, "a test order")
    # The subtotal is after discounts, before shipping, duties and (for tax-exclusive prices) tax.
    # current_* reflects edits made before payment; both pairs come from the same snapshot.
    if p.at(order, "current_subtotal_price_set") is not None:
        subtotal, currency = _shop_money(order, "current_subtotal_price_set")
        tax_field = "current_total_tax_set"
    else:
        currency = p.currency(order, "currency")
        subtotal = p.decimal_money(order.get("subtotal_price"), currency, "subtotal_price")
        tax_field = "total_tax"
    included = order.get("taxes_included") is True
    base = subtotal
    if included:
        # Tax-inclusive prices: the subtotal holds the goods' tax. total_tax also holds the tax on
        # shipping, which sits in the shipping price, so only the rest comes off.
        tax = (
            _shop_money(order, tax_field)[0]
            if tax_field.endswith("_set")
            else p.decimal_money(order.get("total_tax"), currency, "total_tax")
        )
        base = subtotal - (tax - _shipping_tax(order, currency))
    if base <= 0:
        return Ignored(SHOPIFY, d.delivery_id, "nothing was paid for goods")
    email = (
        p.optional_text(order, "email")
        or p.optional_text(order, "contact_email")
        or p.optional_text(order, "customer", "email")
    )
    return ShopOrder(
        provider=SHOPIFY,
        event_id=d.delivery_id,
        order_id=p.provider_id(order, "id"),
        amount_minor=base,
        currency=currency,
        occurred_at=p.instant(order, "processed_at") if order.get("processed_at") else p.instant(order, "created_at"),
        customer_id=p.optional_id(order, "customer", "id"),
        customer_email_hash=hash_email(email) if email else None,
        click_id=p.click_id_in_url(order.get("landing_site")) or p.click_id(_note(order, "upline_click")),
        referral_code=p.code(_note(order, "upline_ref")),
        coupon_codes=p.codes([p.at(c, "code") for c in p.items(order, "discount_codes")]),
        prices_include_tax=included,
    )


def _refund(d: Delivery, refund: dict) -> Command:
    """The refunded line items' value: each refund_line_item's `subtotal_set` is Shopify's own
    figure for price x quantity less the line's discounts for the quantity refunded (its split of
    an order discount included), in the shop's currency. Shipping refunds (refund_shipping_lines)
    and order adjustments are not goods and are left out. `total_tax_set` is the lines' tax:
    inside the subtotal when the order's prices included tax (the order says, not the refund)."""
    amount = tax = 0
    currency = None
    for line in p.items(refund, "refund_line_items"):
        value, line_currency = _shop_money(line, "subtotal_set")
        if currency not in (None, line_currency):
            raise PayloadRefused("refund lines in two currencies", code="invalid_payload")
        currency = line_currency
        amount += value
        tax += _shop_money(line, "total_tax_set")[0] if p.at(line, "total_tax_set") is not None else 0
    if currency is None or amount <= 0:
        return Ignored(SHOPIFY, d.delivery_id, "no goods were refunded (shipping or an adjustment only)")
    when = "processed_at" if refund.get("processed_at") else "created_at"
    return ShopRefund(
        provider=SHOPIFY,
        event_id=d.delivery_id,
        refund_id=p.provider_id(refund, "id"),
        amount=GoodsRefund(amount_minor=amount, tax_minor=tax, includes_tax=None),
        currency=currency,
        occurred_at=p.instant(refund, when),
        order_id=p.provider_id(refund, "order_id"),
    )


def _cancelled(d: Delivery, order: dict) -> Command:
    order_id = p.provider_id(order, "id")
    return ShopRefund(
        provider=SHOPIFY,
        event_id=d.delivery_id,
        refund_id=f"{order_id}:cancelled",
        amount=RemainderRefund(),
        currency=p.currency(order, "currency"),
        occurred_at=p.instant(order, "cancelled_at"),
        order_id=order_id,
    )
