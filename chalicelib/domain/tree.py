"""The partner tree: upline snapshots, compression chains, moves and cycle checks.

Each partner stores its upline — the nearest `max_depth` ancestors, nearest first,
each with its status and rank — so reading a whole upline is one item read.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

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


def child_upline(sponsor: Node, sponsor_upline: Sequence[Node], max_depth: int) -> tuple[Node, ...]:
    """The upline a new direct child of `sponsor` gets."""
    return tuple([sponsor, *sponsor_upline][:max_depth])


def rebase_upline(
    upline: Sequence[Node], level_below_moved: int, moved_new_upline: Sequence[Node], max_depth: int
) -> tuple[Node, ...]:
    """A descendant's upline after the partner `level_below_moved` levels above it moved.

    The part of the path inside the moved subtree is kept; what lay above the moved
    partner is replaced by the moved partner's new upline.
    """
    inside = list(upline[:level_below_moved])
    return tuple((inside + list(moved_new_upline))[:max_depth])


def with_status(upline: Sequence[Node], partner_id: str, status: str, rank: str) -> tuple[Node, ...]:
    return tuple(replace(n, status=status, rank=rank) if n.partner_id == partner_id else n for n in upline)


def would_cycle(moved_id: str, new_sponsor_id: str, new_sponsor_ancestors: Sequence[str]) -> bool:
    """Moving a partner under itself or under one of its own descendants makes a cycle."""
    return new_sponsor_id == moved_id or moved_id in new_sponsor_ancestors


def compression_chain(partner: Node, upline: Sequence[Node], levels: int) -> list[Node]:
    """The partners who take levels 1..`levels`: inactive and terminated ones are skipped."""
    return [n for n in [partner, *upline] if n.active][:levels]
