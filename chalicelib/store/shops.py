"""What the shop integrations (api/integrations.py) record beside an order: the provider's payment
reference, so a later refund or dispute that names only the payment finds its order, and whether the
order's prices included tax (Shopify's refunds report tax inside the refunded subtotal then)."""
from __future__ import annotations

from typing import Any

from . import keys
from .ops import Put


class ShopRepo:
    def __init__(self, table: Any):
        self.table = table

    def links(self, order_id: str, provider: str, payment_ref: str | None, prices_include_tax: bool) -> list[Put]:
        """Written in the order's own transaction (services/orders.attribute_order `also`), so they
        exist exactly when the order does. The payment link is unconditional: one payment pays one
        order, and a retry writes the same value."""
        out = [Put(keys.shop_order(order_id), {"order_id": order_id, "provider": provider,
                                               "prices_include_tax": prices_include_tax,
                                               **({"payment_ref": payment_ref} if payment_ref else {})})]
        if payment_ref:
            out.append(Put(keys.shop_payment(provider, payment_ref), {"order_id": order_id}))
        return out

    def order_for_payment(self, provider: str, payment_ref: str) -> str | None:
        item = self.table.get(keys.shop_payment(provider, payment_ref))
        return item["order_id"] if item else None

    def prices_include_tax(self, order_id: str) -> bool:
        item = self.table.get(keys.shop_order(order_id))
        return bool(item and item.get("prices_include_tax"))
