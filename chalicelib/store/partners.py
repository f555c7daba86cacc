"""Partners and the tree: profiles with their upline snapshot, downline edges, the identities a
partner registered (fraud checks), and the counters orders move."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from ..domain.partners import Partner
from ..domain.tree import Node
from . import keys, ops, schema
from .ops import Check, Delete, Put, Update, eq, put_new
from .repository import _partner_from, _upline_item, iso


@dataclass(frozen=True)
class Edge:
    """One descendant of a partner, `level` levels below it."""
    partner_id: str
    code: str
    name: str
    level: int


def _edge_from(item: dict[str, Any]) -> Edge:
    return Edge(item["partner_id"], item["code"], item.get("name", ""), item["level"])


class PartnerRepo:
    def __init__(self, table: Any):
        self.table = table

    # ---- reads -----------------------------------------------------------------------------
    def get(self, partner_id: str) -> Partner | None:
        item = self.table.get(keys.partner(partner_id))
        return _partner_from(item) if item else None

    def get_many(self, partner_ids: Iterable[str]) -> dict[str, Partner]:
        found = self.table.batch_get(keys.partner(p) for p in partner_ids)
        return {item["partner_id"]: _partner_from(item) for item in found.values()}

    def all(self) -> Iterator[Partner]:
        """Every partner, oldest first, page by page."""
        for item in self.table.query(keys.PARTNERS_INDEX, index=schema.GSI1):
            yield _partner_from(item)

    def fingerprint(self, partner_id: str) -> str | None:
        item = self.table.get(keys.partner(partner_id))
        return item.get("fingerprint") if item else None

    def downline(self, partner_id: str, level: int | None = None) -> Iterator[Edge]:
        prefix = keys.downline_level_prefix(level) if level else keys.DOWNLINE_PREFIX
        for item in self.table.query(keys.partner(partner_id)[0], prefix):
            yield _edge_from(item)

    # ---- writes ----------------------------------------------------------------------------
    def new(self, p: Partner, fingerprint: str) -> Put:
        """The partner's profile: the claim of an enrolment."""
        assert p.created_at is not None
        return put_new(keys.partner(p.partner_id), {
            "partner_id": p.partner_id, "code": p.code, "name": p.name, "sponsor_id": p.sponsor_id,
            "status": p.status, "rank": p.rank, "tree_version": 0, "customer_hash": p.customer_hash,
            "upline": _upline_item(p.upline), "created_at": iso(p.created_at), "fingerprint": fingerprint,
            schema.GSI1PK: keys.PARTNERS_INDEX, schema.GSI1SK: f"{iso(p.created_at)}#{p.partner_id}",
        })

    def edges(self, partner_id: str, code: str, name: str, ancestors: Iterable[Node],
              start_level: int) -> list[Put]:
        return [Put(keys.downline_edge(a.partner_id, level, partner_id),
                    {"partner_id": partner_id, "code": code, "name": name, "level": level})
                for level, a in enumerate(ancestors, start=start_level)]

    def identities(self, partner_id: str, hashes: Iterable[str]) -> list[Put]:
        """The partner's hashed email, phone, payment fingerprint and customer id -> the partner."""
        return [Put(keys.identity(h), {"partner_id": partner_id}) for h in dict.fromkeys(hashes)]

    def tree_unchanged(self, p: Partner) -> Check:
        """The partner's upline is still the one read (a concurrent move changes its version)."""
        return Check(keys.partner(p.partner_id), eq("tree_version", p.tree_version))

    def rewrite_upline(self, p: Partner, new_upline: tuple[Node, ...], keep_levels: int,
                       sponsor_id: str | None = None) -> list[ops.TransactOp]:
        """Replace the part of `p`'s upline above its first `keep_levels` ancestors, with its
        downline edges. Committing the same arguments again changes nothing."""
        old_above = p.upline[keep_levels:]
        new_above = new_upline[keep_levels:]
        out: list[ops.TransactOp] = [
            Delete(keys.downline_edge(a.partner_id, lvl, p.partner_id))
            for lvl, a in enumerate(old_above, start=keep_levels + 1)
            if lvl - keep_levels - 1 >= len(new_above) or new_above[lvl - keep_levels - 1].partner_id != a.partner_id
        ]
        out += self.edges(p.partner_id, p.code, p.name, new_above, start_level=keep_levels + 1)
        sets: dict[str, Any] = {"upline": _upline_item(new_upline)}
        if sponsor_id is not None:
            sets["sponsor_id"] = sponsor_id
        out.append(Update(keys.partner(p.partner_id), set=sets, add={"tree_version": 1},
                          when=eq("tree_version", p.tree_version)))
        return out

    def set_status(self, partner_id: str, status: str, rank: str) -> Update:
        return Update(keys.partner(partner_id), set={"status": status, "rank": rank})

    def set_rank(self, partner_id: str, rank: str, previous: str) -> Update:
        """Only the rank, and only from `previous` (or if it is already `rank`): a status an admin
        set meanwhile is never overwritten."""
        return Update(keys.partner(partner_id), set={"rank": rank}, when=ops.one_of("rank", previous, rank))

    def refresh_upline_node(self, descendant_id: str, level: int, node: Node) -> Update:
        """Copy an ancestor's status and rank into one descendant's upline snapshot."""
        i = level - 1
        return Update(keys.partner(descendant_id), set={f"upline[{i}].st": node.status, f"upline[{i}].rk": node.rank},
                      add={"tree_version": 1}, when=eq(f"upline[{i}].id", node.partner_id))

    def counted(self, node: Node, counters: dict[str, int], tree_version: int | None = None) -> ops.TransactOp:
        """The partner still has the status and rank a commission was computed with (and, for the
        attributed partner, the tree version), and its counters move by `counters`."""
        when: ops.Cond = eq("status", node.status) & eq("rank", node.rank)
        if tree_version is not None:
            when = when & eq("tree_version", tree_version)
        if counters:
            return Update(keys.partner(node.partner_id), add=dict(sorted(counters.items())), when=when)
        return Check(keys.partner(node.partner_id), when)

    def reversed(self, partner_id: str, currency: str, amount: int) -> Update:
        return Update(keys.partner(partner_id), add={f"reversed_{currency}": amount})
