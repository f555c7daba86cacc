"""Each provider's webhook signature, checked as its own SDK checks it, with constant-time
comparison and any of several secrets (two during a rotation). Pure: the caller passes the raw
body, the headers, the secrets and the current time; nothing is read from the environment.

What each verifier returns is a `Delivery`: proof of origin plus the parsed body. Only after the
signature holds is the body parsed, so an unsigned body never reaches the JSON parser.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .commands import PADDLE, SHOPIFY, STRIPE, WOOCOMMERCE, Ping
from .errors import PayloadRefused, ProviderNotConfigured, WebhookRefused
from .payload import header, parse_json, text

# Stripe's SDKs default to 300 s; Paddle's to 5 s. Upline uses 300 s for both, as for its own
# webhook: a redelivered or slow request is not lost, and within the window a replay is harmless
# because every command is idempotent on the provider's event id and the order or refund id.
DEFAULT_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Delivery:
    """A delivery proven to come from the provider."""

    provider: str
    delivery_id: str  # what a redelivery repeats: the event id (Stripe, Paddle, Shopify) or delivery id
    topic: str  # the event type or topic: "checkout.session.completed", "orders/paid", ...
    payload: dict[str, Any]


def _secrets(provider: str, secrets: Sequence[str]) -> list[bytes]:
    usable = [s.encode("utf-8") for s in secrets if isinstance(s, str) and s]
    if not usable:
        raise ProviderNotConfigured(f"no {provider} webhook secret is configured")
    return usable


def _same(expected: bytes, offered: str) -> bool:
    """Constant-time equality of a computed signature and one from a header. Header text may hold
    any character; compare_digest refuses non-ASCII str, so both sides are compared as bytes."""
    return hmac.compare_digest(expected, offered.encode("utf-8", "surrogatepass"))


def _check_age(timestamp: int, now: int, tolerance: int) -> None:
    if timestamp < now - tolerance:
        raise WebhookRefused("the signature's timestamp is older than the tolerance", code="signature_expired")
    if timestamp > now + tolerance:
        raise WebhookRefused("the signature's timestamp is ahead of the tolerance", code="signature_from_future")


def _hex_hmac(secret: bytes, message: bytes) -> bytes:
    return hmac.new(secret, message, hashlib.sha256).hexdigest().encode("ascii")


_DIGITS = re.compile(r"[0-9]{1,12}")


# --- Stripe -------------------------------------------------------------------------------------
def verify_stripe(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Sequence[str],
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> Delivery:
    """`Stripe-Signature: t=...,v1=...[,v1=...]`: hex HMAC-SHA256 of "{t}.{body}" keyed with the
    endpoint secret as given ("whsec_..." whole, as stripe-python keys it); any v1 may match.

    Order and parsing follow stripe-python's WebhookSignature.verify_header: items split on "," and
    then on the first "=", other schemes (v0) ignored, the signature checked before the age. One
    deliberate difference: stripe-python refuses only timestamps older than the tolerance; this also
    refuses ones further ahead, as Upline's own webhook does (Stripe signs with its own clock, so
    only a clock fault or a forgery is ahead)."""
    keys = _secrets(STRIPE, secrets)
    value = header(headers, "Stripe-Signature")
    if value is None:
        raise WebhookRefused("the Stripe-Signature header is missing", code="signature_missing")
    pairs = [item.split("=", 1) for item in value.split(",")]
    stamps = [p[1] for p in pairs if len(p) == 2 and p[0] == "t"]
    offered = [p[1] for p in pairs if len(p) == 2 and p[0] == "v1"]
    if not stamps or not _DIGITS.fullmatch(stamps[0]) or not offered:
        raise WebhookRefused("Stripe-Signature has no timestamp or no v1 signature", code="signature_malformed")
    timestamp = int(stamps[0])
    signed = str(timestamp).encode("ascii") + b"." + body
    if not any(_same(_hex_hmac(k, signed), sig) for k in keys for sig in offered):
        raise WebhookRefused("no v1 signature matches a configured secret", code="signature_mismatch")
    _check_age(timestamp, now, tolerance)
    event = parse_json(body)
    return Delivery(STRIPE, text(event, "id"), text(event, "type"), event)


# --- Paddle Billing -----------------------------------------------------------------------------
def verify_paddle(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Sequence[str],
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> Delivery:
    """`Paddle-Signature: ts=...;h1=...[;h1=...]`: hex HMAC-SHA256 of "{ts}:{body}" keyed with the
    notification destination's secret key; any h1 may match (Paddle sends several while a secret
    is rotated). As paddle-python-sdk's Verifier, the age is checked both ways; its default
    tolerance is 5 s, Upline's 300 s (see DEFAULT_TOLERANCE_SECONDS). Unlike that SDK, a key other
    than ts and h1 is ignored rather than failing, so a future scheme beside h1 does not break it."""
    keys = _secrets(PADDLE, secrets)
    value = header(headers, "Paddle-Signature")
    if value is None:
        raise WebhookRefused("the Paddle-Signature header is missing", code="signature_missing")
    pairs = [item.split("=", 1) for item in value.split(";")]
    stamps = [p[1] for p in pairs if len(p) == 2 and p[0] == "ts"]
    offered = [p[1] for p in pairs if len(p) == 2 and p[0] == "h1"]
    if len(stamps) != 1 or not _DIGITS.fullmatch(stamps[0]) or not offered:
        raise WebhookRefused("Paddle-Signature has no single ts or no h1 signature", code="signature_malformed")
    timestamp = int(stamps[0])
    _check_age(timestamp, now, tolerance)
    signed = str(timestamp).encode("ascii") + b":" + body
    if not any(_same(_hex_hmac(k, signed), sig) for k in keys for sig in offered):
        raise WebhookRefused("no h1 signature matches a configured secret", code="signature_mismatch")
    event = parse_json(body)
    return Delivery(PADDLE, text(event, "event_id"), text(event, "event_type"), event)


# --- Shopify ------------------------------------------------------------------------------------
def normalize_shop_domain(domain: str) -> str:
    """`https://Example-Shop.myshopify.com/` and `example-shop.myshopify.com` are the same shop."""
    d = domain.strip().lower()
    for prefix in ("https://", "http://"):
        if d.startswith(prefix):
            d = d[len(prefix) :]
    return d.rstrip("/").rstrip(".")


def _base64_digest(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None


def verify_shopify(headers: Mapping[str, str], body: bytes, *, secrets: Sequence[str], shop_domain: str) -> Delivery:
    """`X-Shopify-Hmac-Sha256`: base64 of HMAC-SHA256 over the raw body, keyed with the app's client
    secret (or the shop's webhook signing secret for webhooks made in the admin). Shopify signs no
    timestamp, so the replay guard is the event id plus the order or refund id (idempotency).

    An app's secret signs the webhooks of every shop that installed the app, so the shop named in
    `X-Shopify-Shop-Domain` must also be the configured one."""
    keys = _secrets(SHOPIFY, secrets)
    if not shop_domain or not normalize_shop_domain(shop_domain):
        raise ProviderNotConfigured("no Shopify shop domain is configured")
    value = header(headers, "X-Shopify-Hmac-Sha256")
    if value is None:
        raise WebhookRefused("the X-Shopify-Hmac-Sha256 header is missing", code="signature_missing")
    offered = _base64_digest(value)
    if offered is None:
        raise WebhookRefused("X-Shopify-Hmac-Sha256 is not base64", code="signature_malformed")
    if not any(hmac.compare_digest(hmac.new(k, body, hashlib.sha256).digest(), offered) for k in keys):
        raise WebhookRefused("the HMAC matches no configured secret", code="signature_mismatch")
    shop = header(headers, "X-Shopify-Shop-Domain")
    if shop is None or normalize_shop_domain(shop) != normalize_shop_domain(shop_domain):
        raise WebhookRefused("the delivery is for another shop than the configured one", code="shop_mismatch")
    topic = header(headers, "X-Shopify-Topic")
    webhook_id = header(headers, "X-Shopify-Webhook-Id")
    if topic is None or webhook_id is None:
        raise PayloadRefused("X-Shopify-Topic and X-Shopify-Webhook-Id are required", code="missing_header")
    # Shopify's current advice is to deduplicate on X-Shopify-Event-Id (one event, several
    # subscriptions); older deliveries carry only the webhook id, which its retries repeat.
    event_id = header(headers, "X-Shopify-Event-Id") or webhook_id
    return Delivery(SHOPIFY, event_id, topic, parse_json(body))


# --- WooCommerce --------------------------------------------------------------------------------
# WC_Webhook::deliver_ping() posts the bare form body "webhook_id=<id>" with no X-WC-* headers and
# no signature when a webhook is saved, and keeps the webhook pending until it gets a 200.
_WOO_PING = re.compile(rb"webhook_id=([0-9]{1,20})")


def verify_woocommerce(headers: Mapping[str, str], body: bytes, *, secrets: Sequence[str]) -> Delivery | Ping:
    """`X-WC-Webhook-Signature`: base64 of HMAC-SHA256 over the raw body (WC_Webhook::
    generate_signature), keyed with the webhook's secret as shown in its form. The ping is
    recognised by its exact body whether or not it is signed: it is answered 200 and writes
    nothing, so accepting it unsigned gives an attacker nothing."""
    keys = _secrets(WOOCOMMERCE, secrets)
    ping = _WOO_PING.fullmatch(body.strip())
    if ping is not None:
        return Ping(WOOCOMMERCE, ping.group(1).decode("ascii"))
    value = header(headers, "X-WC-Webhook-Signature")
    if value is None:
        raise WebhookRefused("the X-WC-Webhook-Signature header is missing", code="signature_missing")
    offered = _base64_digest(value)
    if offered is None:
        raise WebhookRefused("X-WC-Webhook-Signature is not base64", code="signature_malformed")
    if not any(hmac.compare_digest(hmac.new(k, body, hashlib.sha256).digest(), offered) for k in keys):
        raise WebhookRefused("the signature matches no configured secret", code="signature_mismatch")
    topic = header(headers, "X-WC-Webhook-Topic")
    delivery_id = header(headers, "X-WC-Webhook-Delivery-ID")
    if topic is None or delivery_id is None:
        raise PayloadRefused("X-WC-Webhook-Topic and X-WC-Webhook-Delivery-ID are required", code="missing_header")
    return Delivery(WOOCOMMERCE, delivery_id, topic, parse_json(body))
