"""A partner as the rules see it: who it is, and its standing (status, rank, sponsor) over time."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from .errors import InvalidInput
from .standing import Standing, standing_at
from .tree import ACTIVE, DEFAULT_RANK, STATUSES, Node

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$")


@dataclass(frozen=True)
class Partner:
    partner_id: str
    code: str
    name: str
    # Status, rank and sponsor over time (domain/standing.py): the truth, each change taking effect
    # no sooner than the effectivity fence after it was recorded.
    schedule: tuple[Standing, ...]
    # The ancestors' ids, nearest first, as last written: a hint for reading a chain in one batch
    # (the chain itself is walked from each partner's own sponsor).
    upline_ids: tuple[str, ...] = ()
    customer_hash: str | None = None
    created_at: datetime | None = None
    counters: dict[str, int] = field(default_factory=dict)  # a projection (credited, reversed, sales)

    def standing(self, at: datetime) -> Standing:
        """The standing in effect at `at` (its enrolment standing before it was enrolled)."""
        return standing_at(self.schedule, at)

    def node_at(self, at: datetime) -> Node:
        s = self.standing(at)
        return Node(self.partner_id, s.status, s.rank)

    @property
    def latest(self) -> Standing:
        """The last change recorded, which may not have taken effect yet."""
        return self.schedule[-1]

    def pending(self, now: datetime) -> tuple[Standing, ...]:
        """Changes recorded to take effect after `now`."""
        return tuple(s for s in self.schedule if s.since > now)

    def account_status(self, now: datetime) -> str:
        """The status the partner's own account acts with: the one in effect now, or a stricter one
        already recorded for later. Commissions follow the schedule (so orders stay exact without
        a check); an account is closed the moment an admin closes it, and opened again only when
        the reinstatement takes effect."""
        return max((self.standing(now).status, *(s.status for s in self.pending(now))), key=STATUSES.index)


def new_partner(
    partner_id: str,
    code: str,
    name: str,
    sponsor_id: str | None,
    upline_ids: tuple[str, ...],
    now: datetime,
    customer_hash: str | None = None,
) -> Partner:
    """An enrolment takes effect at once: no order can name a partner before it exists."""
    return Partner(
        partner_id, code, name, (Standing(now, ACTIVE, DEFAULT_RANK, sponsor_id),), upline_ids, customer_hash, now
    )


def check_code(code: str) -> str:
    if not CODE_RE.match(code):
        raise InvalidInput("a code is 3-32 letters, digits, '-' or '_'", code="invalid_code")
    return code.upper()


def partner_id_for(code: str) -> str:
    """Partner ids follow from their (unique, immutable) codes, so a retried enrolment is the same partner."""
    return f"P-{code.upper()}"
