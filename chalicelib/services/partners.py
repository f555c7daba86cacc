"""Enrol partners, read uplines and downlines, move partners and change their status."""
from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Iterator

from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict, NotFound, Unprocessable
from ..domain.links import PARTNER
from ..domain.partners import Partner, check_code, partner_id_for
from ..domain.tree import STATUSES, Node, child_upline, rebase_upline, would_cycle
from ..store.repository import Repository

ATTEMPTS = 5


def _sponsor_by_code(repo: Repository, sponsor_code: str) -> Partner:
    ref = repo.resolve_code(check_code(sponsor_code))
    sponsor = repo.get_partner(ref.partner_id) if ref and ref.kind == PARTNER else None
    if sponsor is None:
        raise Unprocessable(f"no partner has the code {sponsor_code!r}", code="unknown_sponsor")
    return sponsor


def enrol(repo: Repository, *, name: str, code: str | None, sponsor_code: str | None,
          customer_hash: str | None, fingerprint: str, max_depth: int, now: datetime,
          identity_hashes: tuple[str, ...] = (), extra_ops: tuple[dict, ...] = ()) -> tuple[Partner, bool]:
    """Enrol a partner under an optional sponsor. Returns (partner, created); a retry with the same
    code and body returns the partner already enrolled."""
    code = check_code(code) if code else secrets.token_hex(4).upper()
    partner_id = partner_id_for(code)
    for _ in range(ATTEMPTS):
        existing = repo.get_partner(partner_id)
        if existing is not None:
            if repo.partner_fingerprint(partner_id) == fingerprint:
                return existing, False
            raise Conflict(f"the code {code} is already enrolled with other details", code="code_taken")
        if repo.resolve_code(code) is not None:
            raise Conflict(f"the code {code} is already in use", code="code_taken")
        sponsor = _sponsor_by_code(repo, sponsor_code) if sponsor_code else None
        upline = child_upline(sponsor.node, sponsor.upline, max_depth) if sponsor else ()
        partner = Partner(partner_id, code, name, sponsor.partner_id if sponsor else None, upline,
                          customer_hash=customer_hash, created_at=now)
        try:
            repo.enrol_partner(partner, fingerprint, sponsor,
                               tuple(h for h in (customer_hash, *identity_hashes) if h), extra_ops)
            return partner, True
        except (AlreadyExists, ConcurrentUpdate):
            continue
    raise Conflict("the tree changed while enrolling; try again", code="busy")


def get(repo: Repository, partner_id: str) -> Partner:
    partner = repo.get_partner(partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner


def upline(repo: Repository, partner_id: str) -> list[Node]:
    """The live upline, nearest first: two round trips whatever the depth."""
    partner = get(repo, partner_id)
    live = repo.get_partners(n.partner_id for n in partner.upline)
    return [live[n.partner_id].node if n.partner_id in live else n for n in partner.upline]


def downline(repo: Repository, partner_id: str, level: int | None = None) -> dict[str, Any]:
    get(repo, partner_id)
    counts: Counter[int] = Counter()
    members: list[dict[str, Any]] = []
    for edge in repo.downline(partner_id, level):
        counts[edge["level"]] += 1
        if level is not None:
            members.append({"partner_id": edge["partner_id"], "code": edge["code"], "name": edge.get("name", "")})
    result: dict[str, Any] = {
        "partner_id": partner_id,
        "levels": [{"level": lvl, "count": counts[lvl]} for lvl in sorted(counts)],
        "total": sum(counts.values()),
    }
    if level is not None:
        result["partners"] = members
    return result


@dataclass(frozen=True)
class Upline:
    """An upline as far as it was read: the stored snapshot, then what lies above it."""
    nodes: tuple[Node, ...]
    # The ancestors whose own snapshots extended it, with the tree_version each was read at: a
    # transaction that relies on the extension checks these, as it checks the partner's own.
    read_through: dict[str, int] = field(default_factory=dict)


def _above_snapshot(repo: Repository, partner: Partner, max_depth: int) -> Iterator[Partner]:
    """The ancestors at the top of each stored snapshot, going up: the last ancestor the partner
    stores, then the last one that ancestor stores, and so on. A snapshot shorter than `max_depth`
    reached the root (snapshots are cut at `max_depth`, never shorter), so the walk stops there."""
    seen = {partner.partner_id, *(n.partner_id for n in partner.upline)}
    top = partner
    while len(top.upline) >= max_depth:
        top = repo.get_partner(top.upline[-1].partner_id)
        if top is None:
            return
        if any(n.partner_id in seen for n in top.upline):  # a corrupt tree; stop rather than loop
            return
        seen.update(n.partner_id for n in top.upline)
        yield top


def upline_for_levels(repo: Repository, partner: Partner, levels: int, max_depth: int,
                      live: bool = False) -> Upline:
    """The upline compression needs to fill `levels` levels. The stored snapshot is a storage bound,
    not a commission rule: when its active partners (with the partner's own node) do not fill the
    plan and the tree goes on above it, read the last stored ancestor's snapshot, and repeat while
    needed. Rare, so the common order still reads only the partner. `live`: read the status and
    rank of the ancestors found above the snapshot from their own items, not from copies."""
    nodes = list(partner.upline)
    read_through: dict[str, int] = {}
    active = sum(n.active for n in [partner.node, *nodes])
    if active >= levels:
        return Upline(tuple(nodes))
    for top in _above_snapshot(repo, partner, max_depth):
        more = list(top.upline)
        if live:
            fresh = repo.get_partners(n.partner_id for n in more)
            more = [fresh[n.partner_id].node if n.partner_id in fresh else n for n in more]
        read_through[top.partner_id] = top.tree_version
        nodes += more
        active += sum(n.active for n in more)
        if active >= levels:
            break
    return Upline(tuple(nodes), read_through)


def _ancestry(repo: Repository, partner: Partner, max_depth: int) -> list[str]:
    """Every ancestor id, walking past the stored snapshot when the tree is deeper than it."""
    ids = [n.partner_id for n in partner.upline]
    for top in _above_snapshot(repo, partner, max_depth):
        ids += [n.partner_id for n in top.upline]
    return ids


def move(repo: Repository, partner_id: str, new_sponsor_code: str, max_depth: int) -> Partner:
    """Move a partner and its whole downline under a new sponsor. Re-running it finishes a move
    that stopped half-way; a move under oneself or one's own downline is refused with 409."""
    moved = get(repo, partner_id)
    sponsor = _sponsor_by_code(repo, new_sponsor_code)
    if would_cycle(moved.partner_id, sponsor.partner_id, _ancestry(repo, sponsor, max_depth)):
        raise Conflict("that move would put the partner under its own downline", code="cycle")
    new_upline = child_upline(sponsor.node, sponsor.upline, max_depth)
    try:
        _apply_move(repo, partner_id, sponsor, new_upline, max_depth)
    except ConcurrentUpdate:
        raise Conflict("the tree changed during the move; run it again to finish", code="busy") from None
    return get(repo, partner_id)


def _apply_move(repo: Repository, partner_id: str, sponsor: Partner, new_upline: tuple[Node, ...],
                max_depth: int) -> None:
    # Descendants first, the moved partner last: a retry still finds the old state where it matters.
    for _ in range(3):
        changed = 0
        edges = [e for e in repo.downline(partner_id) if e["level"] < max_depth]
        descendants = repo.get_partners(e["partner_id"] for e in edges)
        for edge in edges:
            d = descendants.get(edge["partner_id"])
            if d is None:
                continue
            target = rebase_upline(d.upline, edge["level"], new_upline, max_depth)
            if [n.partner_id for n in d.upline] != [n.partner_id for n in target]:
                repo.rewrite_upline(d, target, keep_levels=edge["level"])
                changed += 1
        if not changed:
            break
    current = get(repo, partner_id)
    if [n.partner_id for n in current.upline] != [n.partner_id for n in new_upline] or \
            current.sponsor_id != sponsor.partner_id:
        repo.rewrite_upline(current, new_upline, keep_levels=0, sponsor_id=sponsor.partner_id)


def set_status(repo: Repository, partner_id: str, status: str, rank: str | None, max_depth: int) -> Partner:
    """Change a partner's status (and optionally rank), then refresh the copies in its downline's
    upline snapshots. Orders check the live values in their transaction, so a refresh still in
    flight can cost an order a re-read but never a wrong commission."""
    if status not in STATUSES:
        raise Unprocessable(f"status must be one of {', '.join(STATUSES)}", code="invalid_status")
    partner = get(repo, partner_id)
    rank = rank or partner.rank
    repo.set_status(partner_id, status, rank)
    node = Node(partner_id, status, rank)
    for edge in repo.downline(partner_id):
        repo.refresh_upline_node(edge["partner_id"], edge["level"], node)
    return replace(partner, status=status, rank=rank)


def set_rank(repo: Repository, partner_id: str, previous: str, rank: str) -> bool:
    """A rank earned at a period's close. Only the rank changes (from `previous`), then the live
    status and new rank are copied into the downline's snapshots. False if the rank moved meanwhile."""
    if not repo.set_rank(partner_id, rank, previous):
        return False
    live = get(repo, partner_id)
    node = Node(partner_id, live.status, live.rank)
    for edge in repo.downline(partner_id):
        repo.refresh_upline_node(edge["partner_id"], edge["level"], node)
    return True
