"""Settlement batches: the batch, its lines (one payout each) with the carried balances they move,
the shards done, its events; and the ledger as settlement streams it.

Every write that moves money is a create or a conditional write committed with what it moves, so a
rerun after a crash, or a second run racing the first, finds "already there" instead of paying twice.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Iterator

from ..domain.ledger import Entry
from ..domain.periods import OPEN
from ..domain.settlement import BUILDING, RECONCILIATION_FAILED, Control, Line, Posting, shard_of
from . import keys, ops, schema
from .ops import Check, Put, Update, eq, put_new
from .repository import entry_from, entry_item, iso

PAGE = 500  # items per page when streaming a settlement: memory stays flat however long the stream

LINE_FIELDS = ("commissions_minor", "bonuses_minor", "clawbacks_minor", "adjustments_minor", "entry_count",
               "carried_in_minor", "payout_minor", "carried_out_minor")


def line_from(item: dict[str, Any]) -> Line:
    return Line(item["period"], item["partner_id"], item["currency"], *(item[f] for f in LINE_FIELDS))


@dataclass(frozen=True)
class NewLine:
    line: Line
    shard: int
    partner_name: str
    payout_method: str
    carry_before: str | None  # the period the partner's balance was last carried from, if any


class BatchRepo:
    def __init__(self, table: Any):
        self.table = table

    # ---- the ledger, as settlement reads it ------------------------------------------------------
    def entries_to_settle(self, period: str, shard: int) -> Iterator[Entry]:
        """The entries a period's settlement pays in one shard, ordered by partner, page by page."""
        for item in self.table.query(keys.settle_index(period, shard), index=schema.GSI2, page_size=PAGE):
            yield entry_from(item)

    def postings_to_settle(self, period: str, shard: int) -> Iterator[Posting]:
        """The same stream, only what a payout line adds up: a fraction of the bytes to fetch and parse."""
        for item in self.table.query(keys.settle_index(period, shard), index=schema.GSI2, page_size=PAGE,
                                     projection=["partner_id", "currency", "kind", "amount_minor"]):
            yield Posting(item["partner_id"], item["currency"], item["kind"], item["amount_minor"])

    def entries_of_line(self, period: str, partner_id: str) -> Iterator[Entry]:
        """The entries one partner's lines in a period settled."""
        yield from (entry_from(i) for i in self.table.query(
            keys.settle_index(period, shard_of(partner_id, keys.SHARDS)), f"{partner_id}#", index=schema.GSI2))

    def payout_return(self, line: Line, entry: Entry, by: str, reason: str, now: datetime) -> list[ops.TransactOp]:
        """Mark a payout failed and give its amount back to the partner's balance (the entry is the claim)."""
        return [
            put_new(keys.entry(entry.partner_id, entry.entry_id), entry_item(entry)),
            Update(keys.batch_line(line.period, line.partner_id, line.currency),
                   set={"payout_status": "failed", "failed_by": by, "failed_at": iso(now), "failure_reason": reason},
                   when=ops.Absent("payout_status") & ops.gt("payout_minor", 0)),
            Check(keys.period(entry.period), ops.Absent() | eq("status", OPEN)),
        ]

    # ---- batches ---------------------------------------------------------------------------
    def get(self, period: str) -> dict[str, Any] | None:
        item = self.table.get(keys.batch(period))
        if item:
            for k in (schema.PK, schema.SK, schema.GSI1PK, schema.GSI1SK):
                item.pop(k, None)
            item["touched_by"] = sorted(item.get("touched_by") or [])
            for k in ("control", "exports", "reconciliation", "payout_file"):
                if isinstance(item.get(k), str):
                    item[k] = json.loads(item[k])
        return item

    def new(self, period: str, by: str, now: datetime, plan_version: int) -> Put:
        return put_new(keys.batch(period), {
            "batch_id": period, "period": period, "status": BUILDING, "created_by": by, "changed_by": by,
            "created_at": iso(now), "plan_version": plan_version, "shards": keys.SHARDS,
            schema.GSI1PK: "BATCHES", schema.GSI1SK: period,
        })

    def touched(self, period: str, by: str) -> Update:
        """Remember everyone who did settlement work on a batch: none of them may approve it."""
        return Update(keys.batch(period), add={"touched_by": {by}})

    def recent(self, limit: int = 60) -> list[dict[str, Any]]:
        return [self.get(i["period"]) or i for i in self.table.query("BATCHES", index=schema.GSI1, forward=False,
                                                                      limit=limit)]

    def finish(self, period: str, status: str, control: dict[str, Any], exports: dict[str, Any],
               reconciliation: dict[str, Any], now: datetime) -> Update:
        return Update(keys.batch(period), set={
            "status": status, "control": json.dumps(control, sort_keys=True),
            "exports": json.dumps(exports, sort_keys=True),
            "reconciliation": json.dumps(reconciliation, sort_keys=True), "finished_at": iso(now)},
            when=ops.one_of("status", BUILDING, RECONCILIATION_FAILED))

    def transition(self, period: str, from_status: str, to_status: str, by: str, now: datetime,
                   extra: dict[str, Any] | None = None) -> Update:
        sets: dict[str, Any] = {"status": to_status, f"{to_status}_by": by, f"{to_status}_at": iso(now)}
        for k, v in (extra or {}).items():
            sets[k] = json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
        return Update(keys.batch(period), set=sets, when=eq("status", from_status))

    def event(self, period: str, event_id: str, attrs: dict[str, Any]) -> Put:
        return put_new(keys.batch_event(period, event_id), attrs)

    def events(self, period: str) -> list[dict[str, Any]]:
        return list(self.table.query(keys.batch(period)[0], keys.EVENT_PREFIX, consistent=True))

    # ---- lines and carried balances ------------------------------------------------------------
    def carries(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        found = self.table.batch_get(keys.carry(p, c) for p, c in pairs)
        return {(i["partner_id"], i["currency"]): i for i in found.values()}

    def lines_at(self, period: str, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Line]:
        found = self.table.batch_get(keys.batch_line(period, p, c) for p, c in pairs)
        return {(i["partner_id"], i["currency"]): line_from(i) for i in found.values()}

    def line(self, new: NewLine) -> list[ops.TransactOp]:
        """A line (a create) and the partner's carried balance it moves, conditional on the period
        the balance was carried from: committed together, each line lands exactly once."""
        line = new.line
        carry_from = ops.Absent() if new.carry_before is None else eq("period", new.carry_before)
        return [
            put_new(keys.batch_line(line.period, line.partner_id, line.currency), {
                "period": line.period, "partner_id": line.partner_id, "currency": line.currency,
                "shard": new.shard, "partner_name": new.partner_name, "payout_method": new.payout_method,
                **{f: getattr(line, f) for f in LINE_FIELDS},
                schema.GSI1PK: keys.partner_payouts_index(line.partner_id),
                schema.GSI1SK: f"{line.period}#{line.currency}",
            }),
            Put(keys.carry(line.partner_id, line.currency),
                {"partner_id": line.partner_id, "currency": line.currency, "period": line.period,
                 "amount_minor": line.carried_out_minor}, when=carry_from),
        ]

    def lines_of_partner(self, partner_id: str, limit: int = 36,
                         period: str | None = None) -> list[tuple[Line, dict[str, Any]]]:
        """A partner's settlement lines, newest period first (only `period`'s, when given)."""
        return [(line_from(item), item) for item in self.table.query(
            keys.partner_payouts_index(partner_id), f"{period}#" if period else None, index=schema.GSI1,
            forward=False, limit=limit)]

    def lines(self, period: str) -> Iterator[tuple[Line, dict[str, Any]]]:
        """Every line of a batch with its stored details, ordered by partner and currency."""
        for item in self.table.query(keys.batch(period)[0], keys.LINE_PREFIX, page_size=PAGE, consistent=True):
            yield line_from(item), item

    # ---- shards ----------------------------------------------------------------------------
    def shard_done(self, period: str, shard: int) -> bool:
        return self.table.get(keys.batch_shard(period, shard)) is not None

    def finish_shard(self, period: str, shard: int, control: dict[str, Control]) -> Put:
        return put_new(keys.batch_shard(period, shard), {
            "period": period, "shard": shard,
            "control": json.dumps({c: t.as_dict() for c, t in control.items()}, sort_keys=True)})

    def shards_done(self, period: str) -> int:
        return sum(1 for _ in self.table.query(keys.batch(period)[0], keys.SHARD_PREFIX, projection=["PK"],
                                               consistent=True))
