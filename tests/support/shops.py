"""Providers' published sample payloads (tests/events/) and their signing, written from each
provider's documentation or done by its own SDK, never by calling the adapter under test."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path

import stripe

EVENTS = Path(__file__).resolve().parents[1] / "events"
NOW = 1_780_000_000                     # a fixed "now" for every signature (2026-05-28)
SHOP = "upline-demo.myshopify.com"
CLICK = "c_Xy3kQ9mZp2LrT8vB4nWdP-ALICE"  # the click id the fixtures carry


def raw(provider: str, name: str) -> bytes:
    """A fixture exactly as stored: the bytes that are signed and parsed."""
    return (EVENTS / provider / name).read_bytes()


def fields(provider: str, name: str) -> dict:
    """A fixture read by the test itself, to compute expected amounts from its own fields."""
    return json.loads(raw(provider, name), parse_float=Decimal)


def body_of(data: dict) -> bytes:
    """A modified fixture as a body (integers stay exact through json)."""
    return json.dumps(data, default=str).encode()


def fake_email_hash(email: str) -> str:
    """Stands for the caller's keyed hash; what matters is that only its output is kept."""
    return "h:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


# Stripe: the stripe package's own test helper (what Stripe's docs tell you to sign tests with).
def stripe_header(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    value = stripe.WebhookSignature.generate_signature_header(body.decode("utf-8"), secret, timestamp=timestamp)
    return {"Stripe-Signature": value}


# Shopify (shopify.dev, "Verify webhooks"): base64 of HMAC-SHA256 of the raw body with the secret.
def shopify_hmac(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_headers(body: bytes, secret: str, topic: str, shop: str = SHOP, *, webhook_id: str = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
                    event_id: str | None = None) -> dict[str, str]:
    headers = {"X-Shopify-Hmac-Sha256": shopify_hmac(body, secret), "X-Shopify-Topic": topic,
               "X-Shopify-Shop-Domain": shop, "X-Shopify-Webhook-Id": webhook_id,
               "X-Shopify-API-Version": "2025-01", "X-Shopify-Triggered-At": "2025-01-02T16:38:15.123Z"}
    if event_id:
        headers["X-Shopify-Event-Id"] = event_id
    return headers


# WooCommerce (WC_Webhook::generate_signature): base64 of HMAC-SHA256 of the body, raw digest.
def woo_headers(body: bytes, secret: str, topic: str, delivery_id: str = "7f6c2a0e1b5d4c3a9e8f7d6c5b4a3928") -> dict[str, str]:
    return {"X-WC-Webhook-Signature": base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode(),
            "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": topic.split(".")[0],
            "X-WC-Webhook-Event": topic.split(".")[1], "X-WC-Webhook-ID": "12",
            "X-WC-Webhook-Delivery-ID": delivery_id, "X-WC-Webhook-Source": "https://shop.example.com/"}


# Paddle (developer.paddle.com, "Verify webhook signatures"): hex HMAC-SHA256 of "ts:body".
def paddle_h1(body: bytes, secret: str, ts: int) -> str:
    return hmac.new(secret.encode(), f"{ts}:".encode() + body, hashlib.sha256).hexdigest()


def paddle_headers(body: bytes, secrets: list[str], ts: int) -> dict[str, str]:
    return {"Paddle-Signature": ";".join([f"ts={ts}"] + [f"h1={paddle_h1(body, s, ts)}" for s in secrets])}
