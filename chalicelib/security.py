"""Keyed hashes for personal data, and the shop's webhook signature."""

from __future__ import annotations

import hashlib
import hmac

from .domain.errors import Unauthorized
from .domain.identity import normalize_email

SIGNATURE_HEADER = "x-upline-signature"
TIMESTAMP_HEADER = "x-upline-timestamp"


def keyed_hash(pepper: str, value: str) -> str:
    """HMAC-SHA256 with a secret pepper: the raw IP, email or id is never stored."""
    return hmac.new(pepper.encode(), value.strip().lower().encode(), hashlib.sha256).hexdigest()[:40]


def email_hash(pepper: str, email: str) -> str:
    """A member's e-mail as stored: the keyed hash of its canonical form, so an alias of an address
    (`mia+1@`, `m.i.a@gmail.com`) hashes as the address itself."""
    return keyed_hash(pepper, normalize_email(email))


def identity_hashes(
    pepper: str, email: str | None = None, phone: str | None = None, payment_fingerprint: str | None = None
) -> tuple[str, ...]:
    """Keyed hashes of a person's identifiers, each tagged with its kind so they never collide. The
    e-mail is hashed in its canonical form (domain/identity.normalize_email), as `email_hash` does."""
    out = []
    if email:
        out.append(keyed_hash(pepper, "email:" + normalize_email(email)))
    if phone:
        digits = "".join(ch for ch in phone if ch.isdigit())
        out.append(keyed_hash(pepper, "phone:" + digits))
    if payment_fingerprint:
        out.append(keyed_hash(pepper, "pay:" + payment_fingerprint))
    return tuple(out)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def verify_webhook(
    secrets: list[str],
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now_epoch: int,
    tolerance_seconds: int = 300,
) -> None:
    """HMAC-SHA256 over `timestamp.body`; any active secret (two during a rotation) may have signed.
    Stale or future timestamps beyond the tolerance are refused, so a captured request cannot be
    replayed later (and within the window, idempotency makes a replay change nothing)."""
    if not secrets:
        raise Unauthorized("webhook secret is not configured", code="webhook_not_configured")
    if not timestamp or not signature or not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthorized("missing or malformed signature headers", code="bad_signature")
    if abs(now_epoch - int(timestamp)) > tolerance_seconds:
        raise Unauthorized("signature timestamp is outside the allowed window", code="stale_signature")
    offered = [s.strip() for s in signature.split(",")]
    for secret in secrets:
        expected = sign(secret, timestamp, body)
        if any(hmac.compare_digest(expected, s) for s in offered):
            return
    raise Unauthorized("signature does not match", code="bad_signature")
