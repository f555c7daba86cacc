"""What the shop integrations (api/integrations.py) record beside an order: the provider's payment
reference, so a later refund or dispute that names only the payment finds its order, and whether the
order's prices included tax (Shopify's refunds report tax inside the refunded subtotal then)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import keys
from .items import iso, parse_iso
from .ops import Put, Update


class ShopRepo:
    def __init__(self, table: Any):
        self.table = table

    def links(self, order_id: str, provider: str, payment_ref: str | None, prices_include_tax: bool) -> list[Put]:
        """Written in the order's own transaction (services/orders.attribute_order `also`), so they
        exist exactly when the order does. The payment link is unconditional: one payment pays one
        order, and a retry writes the same value."""
        out = [
            Put(
                keys.shop_order(order_id),
                {
                    "order_id": order_id,
                    "provider": provider,
                    "prices_include_tax": prices_include_tax,
                    **({"payment_ref": payment_ref} if payment_ref else {}),
                },
            )
        ]
        if payment_ref:
            out.append(Put(keys.shop_payment(provider, payment_ref), {"order_id": order_id}))
        return out

    def subscription_started(self, provider: str, subscription_id: str) -> datetime | None:
        item = self.table.get(keys.shop_subscription(provider, subscription_id))
        return parse_iso(item["started_at"]) if item else None

    def subscription(self, provider: str, subscription_id: str, started_at: datetime) -> Update:
        """The subscription's start, set by its first recorded payment and never moved after (a later
        or concurrent first payment leaves it be): with the order, in its transaction."""
        return Update(keys.shop_subscription(provider, subscription_id), set_if_absent={"started_at": iso(started_at)})

    def order_for_payment(self, provider: str, payment_ref: str) -> str | None:
        item = self.table.get(keys.shop_payment(provider, payment_ref))
        return item["order_id"] if item else None

    def prices_include_tax(self, order_id: str) -> bool:
        item = self.table.get(keys.shop_order(order_id))
        return bool(item and item.get("prices_include_tax"))
