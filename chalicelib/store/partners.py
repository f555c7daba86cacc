"""Partners and the tree: profiles with their schedule of standings and their upline hint, downline
edges, the identities a partner registered (fraud checks), and the tree's move counter."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from ..domain.partners import Partner
from ..domain.standing import Standing
from ..domain.tree import ACTIVE, DEFAULT_RANK
from ..lru import LRU
from . import keys, ops, schema
from .items import iso, parse_iso
from .ops import Delete, Put, Update, eq, put_new
from .reads import Reads

T = TypeVar("T")
PARTNER_CACHE_SIZE = 20_000  # ~2 KB each: ~40 MB at most


@dataclass(frozen=True)
class Edge:
    """One descendant of a partner, `level` levels below it (as the hints last placed it)."""

    partner_id: str
    code: str
    name: str
    level: int


def standing_item(s: Standing) -> dict[str, Any]:
    return {"at": iso(s.since), "st": s.status, "rk": s.rank, "sp": s.sponsor_id}


def partner_from(item: dict[str, Any]) -> Partner:
    created_at = parse_iso(item["created_at"]) if item.get("created_at") else None
    if item.get("schedule"):
        schedule = tuple(Standing(parse_iso(s["at"]), s["st"], s["rk"], s.get("sp")) for s in item["schedule"])
    else:  # written before standings were scheduled: one standing, from enrolment
        since = created_at or datetime(2000, 1, 1, tzinfo=UTC)
        schedule = (
            Standing(since, item.get("status", ACTIVE), item.get("rank", DEFAULT_RANK), item.get("sponsor_id")),
        )
    upline = tuple(u["id"] if isinstance(u, dict) else u for u in item.get("upline", []))
    counters = {
        k: v for k, v in item.items() if k.startswith(("credited_", "reversed_", "sales_")) or k == "attributed_orders"
    }
    return Partner(
        item["partner_id"],
        item["code"],
        item.get("name", ""),
        schedule,
        upline,
        item.get("customer_hash"),
        created_at,
        counters,
    )


def _edge_from(item: dict[str, Any]) -> Edge:
    return Edge(item["partner_id"], item["code"], item.get("name", ""), item["level"])


def _schedule_unchanged(p: Partner) -> ops.Cond:
    """The schedule is still the one read (items written before schedules count as one standing)."""
    same: ops.Cond = ops.SizeIs("schedule", len(p.schedule))
    return (ops.Absent("schedule") | same) if len(p.schedule) == 1 else same


class PartnerRepo:
    def __init__(self, table: Any, cache_size: int = PARTNER_CACHE_SIZE):
        self.table = table
        # partner id -> (the partner, when it was read). Exact for any instant before the read plus the
        # effectivity fence (domain/standing.py), so callers pass a max age below the fence.
        self._recent: LRU[str, tuple[Partner, datetime]] = LRU(cache_size)

    # ---- reads -----------------------------------------------------------------------------
    def get(self, partner_id: str) -> Partner | None:
        item = self.table.get(keys.partner(partner_id))
        return partner_from(item) if item else None

    def get_many(self, partner_ids: Iterable[str]) -> dict[str, Partner]:
        found = self.table.batch_get(keys.partner(p) for p in partner_ids)
        return {item["partner_id"]: partner_from(item) for item in found.values()}

    def recent(self, partner_ids: Iterable[str], now: datetime, max_age: timedelta) -> dict[str, Partner]:
        """The partners, each read (strongly consistently) no longer than `max_age` before `now`:
        from this process's cache when it has them, the rest in one batch read."""
        return self.recent_with(partner_ids, now, max_age, Reads((), lambda found: None))[0]

    def recent_with(
        self, partner_ids: Iterable[str], now: datetime, max_age: timedelta, also: Reads[T]
    ) -> tuple[dict[str, Partner], T]:
        """`recent`, with what `also` asks for read in the same batch."""
        wanted = list(dict.fromkeys(partner_ids))
        out: dict[str, Partner] = {}
        missing = []
        for pid in wanted:
            hit = self._recent.get(pid) if max_age > timedelta(0) else None
            if hit is not None and hit[1] > now - max_age:
                out[pid] = hit[0]
            else:
                missing.append(pid)
        found = self.table.batch_get([*(keys.partner(p) for p in missing), *also.keys]) if missing or also.keys else {}
        for pid in missing:
            item = found.get(keys.partner(pid))
            if item is not None:
                out[pid] = partner_from(item)
                self.remember(out[pid], now)
        return out, also.of(found)

    def remember(self, p: Partner, read_at: datetime) -> None:
        self._recent.put(p.partner_id, (p, read_at))

    def all(self) -> Iterator[Partner]:
        """Every partner, oldest first, page by page."""
        for item in self.table.query(keys.PARTNERS_INDEX, index=schema.GSI1):
            yield partner_from(item)

    def fingerprint(self, partner_id: str) -> str | None:
        item = self.table.get(keys.partner(partner_id))
        return item.get("fingerprint") if item else None

    def downline(self, partner_id: str, level: int | None = None) -> Iterator[Edge]:
        prefix = keys.downline_level_prefix(level) if level else keys.DOWNLINE_PREFIX
        for item in self.table.query(keys.partner(partner_id)[0], prefix):
            yield _edge_from(item)

    def tree_version(self) -> int:
        item = self.table.get(keys.tree())
        return int(item["version"]) if item else 0

    # ---- writes ----------------------------------------------------------------------------
    def new(self, p: Partner, fingerprint: str) -> Put:
        """The partner's profile: the claim of an enrolment."""
        assert p.created_at is not None
        return put_new(
            keys.partner(p.partner_id),
            {
                "partner_id": p.partner_id,
                "code": p.code,
                "name": p.name,
                "customer_hash": p.customer_hash,
                "schedule": [standing_item(s) for s in p.schedule],
                "upline": list(p.upline_ids),
                "created_at": iso(p.created_at),
                "fingerprint": fingerprint,
                schema.GSI1PK: keys.PARTNERS_INDEX,
                schema.GSI1SK: f"{iso(p.created_at)}#{p.partner_id}",
            },
        )

    def edges(self, partner_id: str, code: str, name: str, ancestor_ids: Iterable[str], start_level: int) -> list[Put]:
        return [
            Put(
                keys.downline_edge(a, level, partner_id),
                {"partner_id": partner_id, "code": code, "name": name, "level": level},
            )
            for level, a in enumerate(ancestor_ids, start=start_level)
        ]

    def identities(self, partner_id: str, hashes: Iterable[str]) -> list[Put]:
        """The partner's hashed email, phone, payment fingerprint and customer id -> the partner."""
        return [Put(keys.identity(h), {"partner_id": partner_id}) for h in dict.fromkeys(hashes)]

    def schedule(self, p: Partner, change: Standing) -> Update:
        """Record a change of standing, only onto the schedule as it was read: two changes racing
        take turns (the loser reads again)."""
        return Update(
            keys.partner(p.partner_id),
            set={"schedule": [standing_item(s) for s in (*p.schedule, change)]},
            when=_schedule_unchanged(p),
        )

    def rehint(self, p: Partner, new_upline: tuple[str, ...], keep_levels: int) -> list[ops.TransactOp]:
        """Replace the upline hint of `p` above its first `keep_levels` ancestors, with its downline
        edges. Committing the same arguments again changes nothing."""
        old_above = p.upline_ids[keep_levels:]
        new_above = new_upline[keep_levels:]
        out: list[ops.TransactOp] = [
            Delete(keys.downline_edge(a, lvl, p.partner_id))
            for lvl, a in enumerate(old_above, start=keep_levels + 1)
            if lvl - keep_levels - 1 >= len(new_above) or new_above[lvl - keep_levels - 1] != a
        ]
        out += self.edges(p.partner_id, p.code, p.name, new_above, start_level=keep_levels + 1)
        out.append(Update(keys.partner(p.partner_id), set={"upline": list(new_upline)}))
        return out

    def tree_moved(self, version: int) -> Update:
        """Moves take turns: each checks for cycles on the tree as of one version and moves it on."""
        return Update(keys.tree(), add={"version": 1}, when=ops.Absent("version") | eq("version", version))
