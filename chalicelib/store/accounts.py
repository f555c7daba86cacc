"""What the authorization layer reads of the caller's own account: one small consistent read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import keys
from .partners import partner_from


class AccountRepo:
    def __init__(self, table: Any):
        self.table = table

    def partner_status(self, partner_id: str, now: datetime) -> str | None:
        """The status the partner's account acts with now (`Partner.account_status`; None: no such
        partner). Only its identity and standing attributes are fetched."""
        item = self.table.get(
            keys.partner(partner_id),
            attrs=("partner_id", "code", "schedule", "status", "rank", "sponsor_id", "created_at"),
        )
        return partner_from(item).account_status(now) if item else None
