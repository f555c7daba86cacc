"""The interface every payout provider implements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Payout:
    payout_id: str
    batch_id: str
    partner_id: str
    partner_name: str
    currency: str
    amount_minor: int


class PayoutProvider(Protocol):
    name: str
    file_name: str
    content_type: str

    def issue(self, payouts: Iterable[Payout]) -> bytes:
        """What the provider is handed for these payouts (a file to import, or a request log).
        Must be deterministic: the same payouts give the same bytes."""
        ...
