"""A partner tree in a dictionary, for pure tests of the service's walk above a stored upline."""
from __future__ import annotations

from chalicelib.domain.partners import Partner
from chalicelib.domain.tree import Node, child_upline


class TreeReads:
    """The two reads the order service makes above a snapshot, answered from a dictionary and counted."""

    def __init__(self, partners: dict[str, Partner]):
        self.partners = partners
        self.reads = 0

    def get_partner(self, partner_id: str) -> Partner | None:
        self.reads += 1
        return self.partners.get(partner_id)

    def get_partners(self, ids) -> dict[str, Partner]:
        self.reads += 1
        return {i: self.partners[i] for i in ids if i in self.partners}


def build_chain(root_first: list[Node], max_depth: int) -> dict[str, Partner]:
    """Each partner enrolled under the previous one, its snapshot built as enrolment builds it."""
    partners: dict[str, Partner] = {}
    sponsor = None
    for node in root_first:
        upline = child_upline(sponsor.node, sponsor.upline, max_depth) if sponsor else ()
        partners[node.partner_id] = sponsor = Partner(node.partner_id, node.partner_id, "",
                                                      sponsor.partner_id if sponsor else None, upline,
                                                      status=node.status, rank=node.rank)
    return partners
