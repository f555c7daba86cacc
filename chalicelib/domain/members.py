"""A member (one of the shop's customers) as the rules see it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from .errors import InvalidInput
from .notifications import QuietHours
from .rewards import Identity
from .tiers import Activity, TierState

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
INVITE_CODE_RE = re.compile(r"^[A-Za-z0-9]{4,16}$")


@dataclass(frozen=True)
class Member:
    identity: Identity
    invite_code: str
    quiet: QuietHours
    tier: TierState
    created_at: datetime
    advocate_id: str | None = None  # who invited this member (None: nobody, or the invite was refused)
    first_order_id: str | None = None  # the first qualifying order, once there was one
    ledger_seq: int = 0
    days: dict[str, Activity] = field(default_factory=dict)  # "YYYYMMDD" -> activity that day

    @property
    def member_id(self) -> str:
        return self.identity.member_id


MEMBER_ID_RE = re.compile(r"^M-[0-9a-f]{20}$")


def member_id_for(customer_hash: str) -> str:
    """Member ids follow from the (hashed) shop customer id, so an order finds its buyer's member
    record by key, in the read it already makes."""
    return f"M-{customer_hash[:20]}"


def check_invite_code(code: str) -> str:
    if not INVITE_CODE_RE.match(code):
        raise InvalidInput("an invite code is 4-16 letters or digits", code="invalid_invite_code")
    return code.upper()
