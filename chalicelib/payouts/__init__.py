"""Payout providers: how an approved batch's payouts leave. Adding Stripe Connect or PayPal Payouts
is one module with a class like BankTransferFile, registered in PROVIDERS."""

from __future__ import annotations

from .bank_transfer import BankTransferFile
from .base import Payout, PayoutProvider

PROVIDERS: dict[str, type] = {BankTransferFile.name: BankTransferFile}


def provider(name: str) -> PayoutProvider:
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise ValueError(f"unknown payout provider {name!r}; known: {', '.join(sorted(PROVIDERS))}") from None


__all__ = ["PROVIDERS", "Payout", "PayoutProvider", "provider"]
