"""Why a provider's delivery was refused. Messages name the check that failed, never a secret
or the signature that would have matched."""

from __future__ import annotations

from ..domain.errors import NotFound, Unauthorized, Unprocessable


class WebhookRefused(Unauthorized):
    """The delivery did not prove it came from the provider (401): `code` names the check.

    signature_missing     the signature header is absent or empty
    signature_malformed   the header cannot be read (no timestamp, no signature of the known scheme)
    signature_mismatch    no configured secret produces any signature offered
    signature_expired     signed longer ago than the tolerance
    signature_from_future signed further ahead than the tolerance (a clock or a forgery)
    shop_mismatch         signed for another shop than the one configured (Shopify)
    """


class ProviderNotConfigured(NotFound):
    """No secret is configured for this provider: the route answers as if it did not exist."""

    code = "not_found"


class PayloadRefused(Unprocessable):
    """A genuine delivery whose content cannot become an order or refund (422): `code` says why."""
