"""A partner as the rules see it."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from .errors import InvalidInput
from .tree import ACTIVE, DEFAULT_RANK, Node

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$")


@dataclass(frozen=True)
class Partner:
    partner_id: str
    code: str
    name: str
    sponsor_id: str | None
    upline: tuple[Node, ...]
    status: str = ACTIVE
    rank: str = DEFAULT_RANK
    tree_version: int = 0
    customer_hash: str | None = None
    created_at: datetime | None = None
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def node(self) -> Node:
        return Node(self.partner_id, self.status, self.rank)


def check_code(code: str) -> str:
    if not CODE_RE.match(code):
        raise InvalidInput("a code is 3-32 letters, digits, '-' or '_'", code="invalid_code")
    return code.upper()


def partner_id_for(code: str) -> str:
    """Partner ids follow from their (unique, immutable) codes, so a retried enrolment is the same partner."""
    return f"P-{code.upper()}"
