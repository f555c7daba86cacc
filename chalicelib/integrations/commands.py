"""What a provider's delivery means to Upline, as plain values: the route hands these to the order
and refund services (phase 2). Ids are the provider's own, as strings, and unique only together
with `provider` (Shopify order 1001 and WooCommerce order 1001 are different orders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STRIPE, SHOPIFY, WOOCOMMERCE, PADDLE = "stripe", "shopify", "woocommerce", "paddle"


@dataclass(frozen=True)
class ShopOrder:
    """A paid order. `amount_minor` is the commission base: what the customer paid for goods, after
    discounts, before tax and shipping, in ISO 4217 minor units of `currency`."""

    provider: str
    event_id: str  # the provider's event or delivery id (replay guard)
    order_id: str
    amount_minor: int
    currency: str
    occurred_at: datetime
    # The provider's customer id (the service hashes it, as it does the generic webhook's).
    customer_id: str | None = None
    # The buyer's e-mail through the caller's keyed hash: the raw address never leaves the mapping.
    customer_email_hash: str | None = None
    click_id: str | None = None
    referral_code: str | None = None
    coupon_codes: tuple[str, ...] = ()
    payment_intent: str | None = None  # Stripe: how a later charge.refunded or dispute finds this order
    subscription_id: str | None = None
    billing_period_start: datetime | None = None  # for "renewals pay for N months"
    # Shopify's taxes_included: its refunds report tax inside the refunded subtotal (see GoodsRefund).
    prices_include_tax: bool = False


@dataclass(frozen=True)
class GoodsRefund:
    """The refunded goods' value after discounts, without shipping. Of it, `tax_minor` is tax when
    `includes_tax` says so, or (None) when the order's prices included tax: then it does not count."""

    amount_minor: int
    tax_minor: int = 0
    includes_tax: bool | None = False


@dataclass(frozen=True)
class PaymentShareRefund:
    """Money returned out of a payment, which the provider does not break down into goods, tax and
    shipping: the service refunds the same share of the order's base (base x refunded / paid).
    `cumulative`: `refunded_minor` is the running total for that payment (Stripe's amount_refunded),
    so the service refunds only the increase over what it has recorded."""

    refunded_minor: int
    paid_minor: int
    cumulative: bool


@dataclass(frozen=True)
class RemainderRefund:
    """Everything of the order not refunded yet (a cancelled order)."""


RefundAmount = GoodsRefund | PaymentShareRefund | RemainderRefund


@dataclass(frozen=True)
class ShopRefund:
    """A refund of an order found by `order_id` or, for Stripe, by `payment_intent`/`charge_id`.
    `refund_id` is deterministic: a redelivery yields the same one."""

    provider: str
    event_id: str
    refund_id: str
    amount: RefundAmount
    currency: str
    occurred_at: datetime
    order_id: str | None = None
    payment_intent: str | None = None
    charge_id: str | None = None
    refund_ids: tuple[str, ...] = ()  # the provider's own refund objects this covers, when listed


OPENED, WON, LOST = "opened", "won", "lost"


@dataclass(frozen=True)
class ShopDispute:
    """A chargeback: `opened` holds the order's commissions, `won` releases them, `lost` refunds all."""

    provider: str
    event_id: str
    dispute_id: str
    status: str
    amount_minor: int
    currency: str
    occurred_at: datetime
    payment_intent: str | None = None
    charge_id: str | None = None


@dataclass(frozen=True)
class Ignored:
    """A genuine delivery that asks nothing of Upline (the route answers 200 and writes nothing)."""

    provider: str
    event_id: str
    reason: str


@dataclass(frozen=True)
class Ping:
    """WooCommerce's test delivery when a webhook is saved: answered 200, nothing else."""

    provider: str
    webhook_id: str


Command = ShopOrder | ShopRefund | ShopDispute | Ignored
