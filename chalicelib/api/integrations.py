"""Shops' own webhooks: Stripe, Shopify, WooCommerce and Paddle Billing (docs/integrations.md).

Each route: 404 when the provider is not configured; the provider's signature checked over the raw
body before anything is parsed (401 on failure); the delivery mapped to commands by the phase-1
adapters (chalicelib/integrations); each command through services/shops.py, which calls the same
order and refund services as the generic webhook. Nothing is written on any refusal; a redelivery
replays and writes nothing; a delivery Upline does not use answers 200.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from chalice import Blueprint

from .. import bootstrap
from ..domain.attribution import AttributionRules
from ..integrations import catalog, paddle_events, shopify_events, signatures, stripe_events, woocommerce_events
from ..integrations.commands import Ping
from ..services import shops
from .http import caller, json_response, raw_body, route

bp = Blueprint(__name__)


def _rules() -> shops.ShopRules:
    s = bootstrap.settings()
    return shops.ShopRules(
        s.hash_pepper,
        frozenset(s.currencies),
        AttributionRules(s.attribution_window, s.lifetime_binding),
        s.calendar,
        s.fraud_rules,
        s.tree_rules,
    )


def _headers() -> dict[str, str]:
    return dict(bp.current_request.headers or {})


def _handle(delivery: Any, to_commands: Callable[..., tuple[Any, ...]]):
    if isinstance(delivery, Ping):
        return json_response({"provider": delivery.provider, "status": "ping", "results": []})
    r = _rules()
    commands = to_commands(delivery, hash_email=partial(shops.email_identity, r.pepper))
    uow, now = bootstrap.uow(), bootstrap.now()
    outcomes = [shops.apply(uow, c, r, now) for c in commands]
    created = any(o.created for o in outcomes)
    return json_response(
        {
            "provider": delivery.provider,
            "event_id": delivery.delivery_id,
            "topic": delivery.topic,
            "results": [o.result for o in outcomes],
        },
        201 if created else 200,
        {"Idempotent-Replay": "false" if created else "true"},
    )


def _now() -> int:
    return int(bootstrap.now().timestamp())


@route(bp, "/integrations/stripe", ("POST",))
def stripe_event():
    s = bootstrap.settings()
    delivery = signatures.verify_stripe(
        _headers(), raw_body(bp), secrets=s.stripe_webhook_secrets, now=_now(), tolerance=s.webhook_tolerance_seconds
    )
    return _handle(delivery, stripe_events.to_commands)


@route(bp, "/integrations/shopify", ("POST",))
def shopify_event():
    s = bootstrap.settings()
    delivery = signatures.verify_shopify(
        _headers(), raw_body(bp), secrets=s.shopify_webhook_secrets, shop_domain=s.shopify_shop_domain
    )
    return _handle(delivery, shopify_events.to_commands)


@route(bp, "/integrations/woocommerce", ("POST",))
def woocommerce_event():
    s = bootstrap.settings()
    delivery = signatures.verify_woocommerce(_headers(), raw_body(bp), secrets=s.woocommerce_webhook_secrets)
    return _handle(delivery, woocommerce_events.to_commands)


@route(bp, "/integrations/paddle", ("POST",))
def paddle_event():
    s = bootstrap.settings()
    delivery = signatures.verify_paddle(
        _headers(), raw_body(bp), secrets=s.paddle_webhook_secrets, now=_now(), tolerance=s.webhook_tolerance_seconds
    )
    return _handle(delivery, paddle_events.to_commands)


@route(bp, "/admin/integrations")
def providers():
    """The shops this deployment accepts webhooks from: each provider's URL, whether its settings are
    set (their names, never their values) and what to subscribe to."""
    caller(bp).require("admin")
    return json_response(
        {
            "providers": catalog.status(bootstrap.settings()),
            "generic": {
                "orders": "/webhooks/orders",
                "refunds": "/webhooks/refunds",
                "configured": bool(bootstrap.settings().webhook_secrets),
                "settings": ["UPLINE_WEBHOOK_SECRETS"],
            },
        }
    )
