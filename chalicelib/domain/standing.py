"""Scheduled effectivity: a partner's status, rank and sponsor as a schedule of changes.

A change is recorded at some instant W and takes effect at an instant E at least the effectivity
fence after it (E >= W + fence). So anyone who read a partner's item at time r knows its standing
exactly for every t < r + fence: whatever is written after r takes effect after r + fence. That is
what lets an order use what it read (or what its process cached for less than the fence) without
a condition on the partners in its chain, and what makes the chain an order computes right by
construction: a status change, a rank change or a move is either in effect for the whole order or
not at all.

The tree at t is each partner's `sponsor_id` at t. The upline ids a partner item also carries are a
hint (kept fresh by a background job after a move), used to read a whole chain in one batch; the
walk below checks every step against the sponsors themselves and names what it still has to read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from .errors import Unprocessable
from .tree import ACTIVE, Node


@dataclass(frozen=True)
class TreeRules:
    """How far upline hints reach, and the effectivity fence: how long after it is recorded a change
    of standing takes effect (also how long after its lock a period's settlement may start)."""

    max_depth: int = 10
    fence: timedelta = timedelta(0)

    @property
    def cache_age(self) -> timedelta:
        """A partner read less than this long ago is exact for now (below the fence: see above)."""
        return self.fence / 2


@dataclass(frozen=True)
class Standing:
    """What holds for a partner from `since` until the next change."""

    since: datetime
    status: str
    rank: str
    sponsor_id: str | None


def standing_at(schedule: Sequence[Standing], t: datetime) -> Standing:
    """The standing in effect at `t`. Before its first change a partner has its enrolment standing
    (an order dated before a partner's enrolment, as a shop may report one late, finds it as enrolled)."""
    current = schedule[0]
    for s in schedule[1:]:
        if s.since <= t:
            current = s
        else:
            break
    return current


def schedule_change(
    schedule: Sequence[Standing],
    now: datetime,
    fence: timedelta,
    effective_at: datetime | None = None,
    *,
    status: str | None = None,
    rank: str | None = None,
    sponsor_id: str | None = None,
    move: bool = False,
) -> Standing:
    """The next entry of a schedule: effective at `effective_at` (default: as soon as allowed,
    `now + fence`), never earlier than `now + fence`, and never before a change already scheduled
    (changes apply in the order they take effect). Fields not given carry over from the standing
    in effect at that instant."""
    earliest = now + fence
    at = effective_at or earliest
    if at < earliest:
        raise Unprocessable(
            f"a change takes effect at {earliest.isoformat()} at the earliest (the effectivity "
            "fence), so that every order is computed on one tree",
            code="too_soon",
        )
    last = schedule[-1] if schedule else None
    if last is not None and at < last.since:
        raise Unprocessable(
            f"another change is scheduled for {last.since.isoformat()}; this one must take effect after it",
            code="scheduled_later",
        )
    base = standing_at(schedule, at)
    return replace(
        base,
        since=at,
        status=status or base.status,
        rank=rank or base.rank,
        sponsor_id=sponsor_id if move else base.sponsor_id,
    )


class Walkable(Protocol):
    """What the chain walk needs of a partner item (read-only: Partner is a frozen dataclass)."""

    @property
    def partner_id(self) -> str: ...
    @property
    def schedule(self) -> tuple[Standing, ...]: ...


@dataclass(frozen=True)
class Chain:
    """The partner and its ancestors at t, nearest first, as nodes with their status and rank then;
    `missing` names the partner whose item the walk needs next (None: the chain is complete)."""

    nodes: tuple[Node, ...]
    missing: str | None = None


def chain_at(
    partner_id: str, items: Mapping[str, Walkable], t: datetime, active_levels: int, max_steps: int = 10_000
) -> Chain:
    """Walk from `partner_id` up the sponsors in effect at `t` until `active_levels` active
    partners are found (compression fills every level with the next active ancestor) or the root
    is reached. Stops at the first partner not in `items` and names it."""
    nodes: list[Node] = []
    seen: set[str] = set()
    active = 0
    current: str | None = partner_id
    while current is not None and len(nodes) < max_steps:
        if current in seen:  # a cycle can only come from corrupt data: stop rather than loop
            break
        item = items.get(current)
        if item is None:
            return Chain(tuple(nodes), missing=current)
        standing = standing_at(item.schedule, t)
        seen.add(current)
        nodes.append(Node(current, standing.status, standing.rank))
        active += standing.status == ACTIVE
        if active >= active_levels and nodes[-1].active:
            break
        current = standing.sponsor_id
    return Chain(tuple(nodes))
