"""Enrol partners, walk their chains, read their downlines, and schedule changes of status, rank and
sponsor (moves). A change takes effect no sooner than the effectivity fence after it is recorded
(domain/standing.py), so an order computes its commissions on one tree, with no condition on the
partners in its chain."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict, NotFound, Unprocessable
from ..domain.links import PARTNER
from ..domain.partners import Partner, check_code, new_partner, partner_id_for
from ..domain.standing import Chain, Standing, TreeRules, chain_at, schedule_change
from ..domain.tree import STATUSES, Node, child_upline, rebase_upline, would_cycle
from ..store.stats import TOTAL
from ..store.uow import TransactOp, UnitOfWork

ATTEMPTS = 5
MAX_ROUNDS = 64  # batch reads one walk may make before it gives up on a corrupt tree


def _sponsor_by_code(uow: UnitOfWork, sponsor_code: str) -> Partner:
    ref = uow.links.resolve(check_code(sponsor_code))
    sponsor = uow.partners.get(ref.partner_id) if ref and ref.kind == PARTNER else None
    if sponsor is None:
        raise Unprocessable(f"no partner has the code {sponsor_code!r}", code="unknown_sponsor")
    return sponsor


def enrol(
    uow: UnitOfWork,
    *,
    name: str,
    code: str | None,
    sponsor_code: str | None,
    customer_hash: str | None,
    fingerprint: str,
    max_depth: int,
    now: datetime,
    identity_hashes: tuple[str, ...] = (),
    extra: tuple[TransactOp, ...] = (),
) -> tuple[Partner, bool]:
    """Enrol a partner under an optional sponsor. Returns (partner, created); a retry with the same
    code and body returns the partner already enrolled. The new partner's sponsor is its own from
    now on; its upline hint is the sponsor's, as read."""
    code = check_code(code) if code else secrets.token_hex(4).upper()
    partner_id = partner_id_for(code)
    for _ in range(ATTEMPTS):
        existing = uow.partners.get(partner_id)
        if existing is not None:
            if uow.partners.fingerprint(partner_id) == fingerprint:
                return existing, False
            raise Conflict(f"the code {code} is already enrolled with other details", code="code_taken")
        if uow.links.resolve(code) is not None:
            raise Conflict(f"the code {code} is already in use", code="code_taken")
        sponsor = _sponsor_by_code(uow, sponsor_code) if sponsor_code else None
        hint = child_upline(sponsor.partner_id, sponsor.upline_ids, max_depth) if sponsor else ()
        partner = new_partner(partner_id, code, name, sponsor.partner_id if sponsor else None, hint, now, customer_hash)
        uow.claim(uow.partners.new(partner, fingerprint))
        uow.add(
            uow.links.new_partner_code(partner_id, code, now, hint),
            *uow.partners.edges(partner_id, code, name, hint, start_level=1),
            *uow.partners.identities(partner_id, [h for h in (customer_hash, *identity_hashes) if h]),
            *extra,
        )
        try:
            uow.commit()
            return partner, True
        except (AlreadyExists, ConcurrentUpdate):
            continue
    raise Conflict("the partner could not be enrolled because of concurrent changes; try again", code="busy")


def get(uow: UnitOfWork, partner_id: str) -> Partner:
    partner = uow.partners.get(partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner


def view(uow: UnitOfWork, p: Partner, now: datetime, figures: bool = True) -> dict[str, Any]:
    """A partner as people see it: its standing now, any change scheduled after now, how deep its
    upline hint goes, and (unless `figures` is False) its running figures (a projection, seconds
    behind the orders)."""
    s = p.standing(now)
    counters = uow.stats.get_many([(p.partner_id, TOTAL)])[(p.partner_id, TOTAL)].figures if figures else None
    return {
        "partner_id": p.partner_id,
        "code": p.code,
        "name": p.name,
        "sponsor_id": s.sponsor_id,
        "status": s.status,
        "rank": s.rank,
        "depth_stored": len(p.upline_ids),
        "counters": counters,
        "scheduled": [
            {"effective_at": c.since.isoformat(), "status": c.status, "rank": c.rank, "sponsor_id": c.sponsor_id}
            for c in p.pending(now)
        ],
        "created_at": p.created_at.isoformat() if p.created_at else None,
    }


# ---- chains ---------------------------------------------------------------------------------------


def chain_for(
    uow: UnitOfWork,
    partner: Partner,
    at: datetime,
    active_levels: int,
    rules: TreeRules,
    known: dict[str, Partner] | None = None,
) -> Chain:
    """The partner and its ancestors at `at`, until `active_levels` active partners are found or the
    root: walked from each partner's own sponsor, reading in batches by the hints (one batch for a
    chain whose hints are current, from the process's recent reads where they are fresh enough),
    more only when a move left a hint behind or the chain runs past the stored depth."""
    items: dict[str, Partner] = {partner.partner_id: partner, **(known or {})}
    for _ in range(MAX_ROUNDS):
        chain = chain_at(partner.partner_id, items, at, active_levels)
        if chain.missing is None:
            return chain
        # The missing partner, and whatever the nearest one in hand says lies above it.
        last = items[chain.nodes[-1].partner_id]
        hinted = (
            list(last.upline_ids[last.upline_ids.index(chain.missing) :])
            if chain.missing in last.upline_ids
            else [chain.missing]
        )
        fetched = uow.partners.recent([p for p in hinted if p not in items], at, rules.cache_age)
        if chain.missing not in fetched:
            return Chain(chain.nodes)  # a sponsor that does not exist: the chain ends there
        items.update(fetched)
    raise Conflict("the partner tree is too deep or corrupt to walk", code="tree_corrupt")


def upline(uow: UnitOfWork, partner_id: str, now: datetime, rules: TreeRules) -> list[Node]:
    """The upline in effect now, nearest first, with each ancestor's status and rank now."""
    partner = get(uow, partner_id)
    return list(chain_for(uow, partner, now, 1 << 30, rules).nodes[1:])


def uplines_at(
    uow: UnitOfWork, partners: dict[str, Partner], at: datetime, levels: int, rules: TreeRules
) -> dict[str, list[str]]:
    """For each partner, the ids of its ancestors at `at`, nearest first, `levels` deep (team volume)."""
    known = dict(partners)
    out: dict[str, list[str]] = {}
    for pid, p in partners.items():
        walked = chain_for(uow, p, at, 1 << 30, rules, known)
        out[pid] = [n.partner_id for n in walked.nodes[1 : levels + 1]]
    return out


def downline(uow: UnitOfWork, partner_id: str, level: int | None = None) -> dict[str, Any]:
    get(uow, partner_id)
    counts: Counter[int] = Counter()
    members: list[dict[str, Any]] = []
    for edge in uow.partners.downline(partner_id, level):
        counts[edge.level] += 1
        if level is not None:
            members.append({"partner_id": edge.partner_id, "code": edge.code, "name": edge.name})
    result: dict[str, Any] = {
        "partner_id": partner_id,
        "levels": [{"level": lvl, "count": counts[lvl]} for lvl in sorted(counts)],
        "total": sum(counts.values()),
    }
    if level is not None:
        result["partners"] = members
    return result


# ---- scheduled changes ----------------------------------------------------------------------------


def _record(uow: UnitOfWork, partner_id: str, make: Any, also: Iterable[TransactOp] = ()) -> tuple[Partner, Standing]:
    """Append a change made by `make(partner)` to the partner's schedule; re-read on a race."""
    for _ in range(ATTEMPTS):
        partner = get(uow, partner_id)
        change = make(partner)
        uow.add(uow.partners.schedule(partner, change), *also)
        try:
            uow.commit()
            return partner, change
        except ConcurrentUpdate:
            continue
    raise Conflict("the partner changed while recording this; try again", code="busy")


def set_status(
    uow: UnitOfWork,
    partner_id: str,
    status: str,
    rank: str | None,
    now: datetime,
    rules: TreeRules,
    effective_at: datetime | None = None,
) -> Partner:
    """Schedule a change of status (and optionally rank). It takes effect at `effective_at`, or as
    soon as the fence allows; nothing needs copying into the downline, since orders read each
    partner's own standing."""
    if status not in STATUSES:
        raise Unprocessable(f"status must be one of {', '.join(STATUSES)}", code="invalid_status")
    _record(
        uow, partner_id, lambda p: schedule_change(p.schedule, now, rules.fence, effective_at, status=status, rank=rank)
    )
    return get(uow, partner_id)


def set_rank(uow: UnitOfWork, partner_id: str, rank: str, now: datetime, rules: TreeRules) -> Partner:
    """A rank earned at a period's close, in effect once the fence has passed (or after a change an
    admin scheduled later than that)."""
    _record(
        uow,
        partner_id,
        lambda p: schedule_change(p.schedule, now, rules.fence, max(now + rules.fence, p.latest.since), rank=rank),
    )
    return get(uow, partner_id)


def ancestry(uow: UnitOfWork, partner: Partner, at: datetime, rules: TreeRules) -> list[str]:
    """Every ancestor id at `at`, to the root."""
    return [n.partner_id for n in chain_for(uow, partner, at, 1 << 30, rules).nodes[1:]]


def move(
    uow: UnitOfWork,
    partner_id: str,
    new_sponsor_code: str,
    now: datetime,
    rules: TreeRules,
    effective_at: datetime | None = None,
) -> Partner:
    """Move a partner and its whole downline under a new sponsor, from `effective_at` (or as soon as
    the fence allows). Moves take turns on the tree's counter, so two cannot make a cycle together;
    a move under oneself or one's own downline is refused with 409. The upline hints and downline
    edges are rewritten at once (a hint only speeds reads up; each order walks the sponsors in
    effect at its own instant)."""
    for _ in range(ATTEMPTS):
        version = uow.partners.tree_version()
        moved = get(uow, partner_id)
        sponsor = _sponsor_by_code(uow, new_sponsor_code)
        change = schedule_change(
            moved.schedule, now, rules.fence, effective_at, sponsor_id=sponsor.partner_id, move=True
        )
        if would_cycle(moved.partner_id, sponsor.partner_id, ancestry(uow, sponsor, change.since, rules)):
            raise Conflict("that move would put the partner under its own downline", code="cycle")
        uow.add(uow.partners.schedule(moved, change), uow.partners.tree_moved(version))
        try:
            uow.commit()
            break
        except ConcurrentUpdate:
            continue
    else:
        raise Conflict("the tree changed during the move; run it again", code="busy")
    _rehint(uow, partner_id, child_upline(sponsor.partner_id, sponsor.upline_ids, rules.max_depth), rules.max_depth)
    return get(uow, partner_id)


def _rehint(uow: UnitOfWork, partner_id: str, new_upline: tuple[str, ...], max_depth: int) -> None:
    """Rewrite the moved partner's hint and its downline's, with their edges. Running it again
    finishes one that stopped half-way."""
    moved = get(uow, partner_id)
    if moved.upline_ids != new_upline:
        uow.add(*uow.partners.rehint(moved, new_upline, keep_levels=0))
        uow.commit()
    edges = [e for e in uow.partners.downline(partner_id) if e.level < max_depth]
    descendants = uow.partners.get_many(e.partner_id for e in edges)
    for edge in edges:
        d = descendants.get(edge.partner_id)
        if d is None:
            continue
        target = rebase_upline(d.upline_ids, edge.level, new_upline, max_depth)
        if d.upline_ids != target:
            uow.add(*uow.partners.rehint(d, target, keep_levels=edge.level))
            uow.commit()
