"""The partner tree: nodes (a partner's status and rank at an instant), compression chains, upline
hints and cycle checks. Who sponsors whom, and when, is in domain/standing.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ACTIVE = "active"
STATUSES = ("active", "inactive", "terminated")
DEFAULT_RANK = "base"


@dataclass(frozen=True)
class Node:
    partner_id: str
    status: str = ACTIVE
    rank: str = DEFAULT_RANK

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


def child_upline(sponsor_id: str, sponsor_upline: Sequence[str], max_depth: int) -> tuple[str, ...]:
    """The upline hint a new direct child of `sponsor_id` gets."""
    return tuple([sponsor_id, *sponsor_upline][:max_depth])


def rebase_upline(
    upline: Sequence[str], level_below_moved: int, moved_new_upline: Sequence[str], max_depth: int
) -> tuple[str, ...]:
    """A descendant's upline hint after the partner `level_below_moved` levels above it moved.

    The part of the path inside the moved subtree is kept; what lay above the moved
    partner is replaced by the moved partner's new upline.
    """
    inside = list(upline[:level_below_moved])
    return tuple((inside + list(moved_new_upline))[:max_depth])


def would_cycle(moved_id: str, new_sponsor_id: str, new_sponsor_ancestors: Sequence[str]) -> bool:
    """Moving a partner under itself or under one of its own descendants makes a cycle."""
    return new_sponsor_id == moved_id or moved_id in new_sponsor_ancestors


def compression_chain(partner: Node, upline: Sequence[Node], levels: int) -> list[Node]:
    """The partners who take levels 1..`levels`: inactive and terminated ones are skipped."""
    return [n for n in [partner, *upline] if n.active][:levels]
