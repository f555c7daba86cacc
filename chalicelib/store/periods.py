"""Periods as settlement moves them on, the program's settled-through marker, and what bonuses
read per period: partners' volumes (a projection), targets set by an admin, and ranks held."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Iterator

from ..domain.ledger import BONUS
from ..domain.periods import CLOSING, OPEN
from ..domain.settlement import shard_of
from . import keys, ops, schema
from .ops import Put, Update, eq, lt
from .repository import iso


def _net_volume(item: dict[str, Any]) -> dict[str, int]:
    """currency -> sales less refunds, from a partner's period volume item."""
    net: dict[str, int] = {}
    for k, v in item.items():
        if k.startswith("sales_"):
            net[k[6:]] = net.get(k[6:], 0) + v
        elif k.startswith("refunds_"):
            net[k[8:]] = net.get(k[8:], 0) - v
    return net


class PeriodRepo:
    def __init__(self, table: Any):
        self.table = table

    # ---- the program's progress ------------------------------------------------------------
    def settled_through(self) -> str | None:
        item = self.table.get(keys.settlement_state())
        return item.get("settled_through") if item else None

    def set_settled_through(self, period: str) -> Update:
        return Update(keys.settlement_state(), set={"settled_through": period},
                      when=ops.Absent("settled_through") | lt("settled_through", period))

    # ---- periods ---------------------------------------------------------------------------
    def get(self, period: str) -> dict[str, Any] | None:
        return self.table.get(keys.period(period))

    def start_closing(self, period: str, now: datetime, by: str) -> Update:
        """Stop entries from landing in the period (orders check its status in their transaction)."""
        return Update(keys.period(period), set={"status": CLOSING, "closing_at": iso(now), "closing_by": by},
                      when=ops.Absent("status") | eq("status", OPEN))

    def move(self, period: str, from_status: str, to_status: str, now: datetime,
             bonus_counts: dict[int, int] | None = None) -> Update:
        """Move a period on; `bonus_counts` (bonus entries per shard) is recorded with the move to
        `bonused`, so each shard can check the index shows them all before it settles."""
        sets: dict[str, Any] = {"status": to_status, f"{to_status}_at": iso(now)}
        if bonus_counts is not None:
            sets["bonus_counts"] = {str(k): v for k, v in bonus_counts.items()}
        return Update(keys.period(period), set=sets, when=eq("status", from_status))

    def bonus_entries_visible(self, period: str, shard: int) -> int:
        """Bonus entries the settlement index shows for one shard (an index is read eventually)."""
        return self.table.count_where(keys.settle_index(period, shard), eq("kind", BONUS), index=schema.GSI2)

    # ---- volumes, targets, ranks ---------------------------------------------------------------
    def volume(self, partner_id: str, period: str, counter: str, amount: int) -> Update:
        """Add to a partner's sales (or refunds) in a period, per currency (`sales_USD`...)."""
        return Update(keys.partner_period(partner_id, period), add={counter: amount}, set={
            "partner_id": partner_id, "period": period,
            schema.GSI2PK: keys.volume_index(period, shard_of(partner_id, keys.SHARDS)), schema.GSI2SK: partner_id})

    def volumes(self, period: str) -> Iterator[tuple[str, dict[str, int]]]:
        """(partner, currency -> sales less refunds) for every partner with volume in the period."""
        for shard in range(keys.SHARDS):
            for item in self.table.query(keys.volume_index(period, shard), index=schema.GSI2):
                yield item["partner_id"], _net_volume(item)

    def volume_of(self, partner_ids: Iterable[str], period: str) -> dict[str, dict[str, int]]:
        found = self.table.batch_get(keys.partner_period(p, period) for p in partner_ids)
        return {item["partner_id"]: _net_volume(item) for item in found.values()}

    def targets(self, partner_ids: Iterable[str], period: str) -> dict[str, int]:
        found = self.table.batch_get(keys.target(p, period) for p in partner_ids)
        return {item["partner_id"]: item["target_minor"] for item in found.values()}

    def set_target(self, partner_id: str, period: str, target_minor: int, by: str, now: datetime) -> Put:
        return Put(keys.target(partner_id, period), {
            "partner_id": partner_id, "period": period, "target_minor": target_minor, "set_by": by, "set_at": iso(now)})

    def record_rank(self, partner_id: str, period: str, rank: str, previous: str, evaluated_in: str) -> Put:
        return Put(keys.partner_rank(partner_id, period), {
            "partner_id": partner_id, "period": period, "rank": rank, "previous": previous,
            "evaluated_in": evaluated_in})
