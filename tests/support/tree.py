"""A partner tree in a dictionary, for pure tests of the chain walk (services/partners.chain_for)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable

from chalicelib.domain.partners import Partner
from chalicelib.domain.standing import Standing
from chalicelib.domain.tree import Node, child_upline

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class _Partners:
    """The partner reads the walk makes, answered from a dictionary; each batch counted as one read."""

    def __init__(self, partners: dict[str, Partner]):
        self.partners = partners
        self.reads = 0

    def recent(self, ids: Iterable[str], now: datetime, max_age: timedelta) -> dict[str, Partner]:
        self.reads += 1
        return {i: self.partners[i] for i in ids if i in self.partners}


class TreeReads:
    """Stands in for a unit of work in the walk: `uow.partners.recent` only."""

    def __init__(self, partners: dict[str, Partner]):
        self.partners = _Partners(partners)

    @property
    def reads(self) -> int:
        return self.partners.reads


def build_chain(root_first: list[Node], max_depth: int) -> dict[str, Partner]:
    """Each partner enrolled under the previous one, its upline hint built as enrolment builds it."""
    partners: dict[str, Partner] = {}
    sponsor: Partner | None = None
    for node in root_first:
        hint = child_upline(sponsor.partner_id, sponsor.upline_ids, max_depth) if sponsor else ()
        partners[node.partner_id] = sponsor = Partner(
            node.partner_id, node.partner_id, "",
            (Standing(T0, node.status, node.rank, sponsor.partner_id if sponsor else None),), hint)
    return partners
