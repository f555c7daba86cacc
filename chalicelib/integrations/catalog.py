"""The shops Upline connects to, as data: the one list `make run`'s banner, the admins' page
(`GET /admin/integrations`) and docs/integrations.md describe. Pure: whether a provider is
configured is read from the settings object handed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Provider:
    name: str
    title: str
    path: str
    settings: tuple[str, ...]  # the settings' field names, all of which must be set (config.Settings)
    subscribe: tuple[str, ...]  # the events or topics to subscribe the webhook to
    click: str  # how the click id reaches the provider's order

    def configured(self, settings: Any) -> bool:
        return all(getattr(settings, name) for name in self.settings)

    def env(self) -> tuple[str, ...]:
        return tuple(f"UPLINE_{name.upper()}" for name in self.settings)


PROVIDERS = (
    Provider(
        "stripe",
        "Stripe",
        "/integrations/stripe",
        ("stripe_webhook_secrets",),
        (
            "checkout.session.completed",
            "invoice.paid",
            "charge.refunded",
            "charge.dispute.created",
            "charge.dispute.closed",
        ),
        "client_reference_id (or metadata.upline_click) on the Checkout Session",
    ),
    Provider(
        "shopify",
        "Shopify",
        "/integrations/shopify",
        ("shopify_webhook_secrets", "shopify_shop_domain"),
        ("orders/paid", "refunds/create", "orders/cancelled"),
        "the order's landing_site (kept by Shopify), or a cart attribute upline_click",
    ),
    Provider(
        "woocommerce",
        "WooCommerce",
        "/integrations/woocommerce",
        ("woocommerce_webhook_secrets",),
        ("order.created", "order.updated"),
        "order meta upline_click (a few lines in the theme)",
    ),
    Provider(
        "paddle",
        "Paddle Billing",
        "/integrations/paddle",
        ("paddle_webhook_secrets",),
        ("transaction.completed", "adjustment.created", "adjustment.updated"),
        "custom_data.upline_click on the transaction",
    ),
)


def status(settings: Any, base_url: str = "") -> list[dict[str, Any]]:
    """Each provider: its webhook URL, whether this deployment has what it needs, the settings that
    give it (names only: never their values) and what to subscribe."""
    return [
        {
            "provider": p.name,
            "title": p.title,
            "url": base_url + p.path,
            "configured": p.configured(settings),
            "settings": list(p.env()),
            "subscribe": list(p.subscribe),
            "click_id": p.click,
        }
        for p in PROVIDERS
    ]
