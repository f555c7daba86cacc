"""The partners' ledger: immutable entries (commissions, reversals, bonuses, returned payouts), and
the sale postings that count an order towards its partner's volume.

A partner's ledger is spread over `SUBS` partitions, `LEDGER#{partner}#{sub}`, the sub chosen by the
order (or bonus, or payout) an entry comes from: a partner whose link sells thousands of orders a
second writes to thirty-two partition keys, none past DynamoDB's 1,000 write units a second. Within a
partition entries sort by time, so a partner's ledger is a merge of thirty-two time-ordered streams.
The settlement index (GSI2) is spread the same way: `SETTLE#{period}#{partner shard}#{sub}`, sorted
by partner, and a settlement shard merges its thirty-two sub-partitions partner by partner.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from ..domain.ledger import Entry
from ..domain.settlement import shard_of
from . import keys, schema
from .items import iso, parse_iso
from .ops import Put, put_new

SUBS = 32  # a partner's ledger partitions: 3,000 orders/s through one partner stay under 1,000 WCU/s each
SALE = "S"  # the sort key suffix of a sale posting


def sub_of(source_id: str) -> int:
    """The ledger partition an entry from this order (bonus run, payout) goes to."""
    return shard_of(source_id, SUBS)


def entry_key(e: Entry) -> keys.Key:
    return keys.ledger_entry(e.partner_id, sub_of(e.order_id), f"{iso(e.occurred_at)}#{e.entry_id}")


def entry_item(e: Entry) -> dict[str, Any]:
    sub = sub_of(e.order_id)
    return {
        "entry_id": e.entry_id,
        "kind": e.kind,
        "partner_id": e.partner_id,
        "order_id": e.order_id,
        "level": e.level,
        "amount_minor": e.amount_minor,
        "currency": e.currency,
        "plan_version": e.plan_version,
        "rate_bps": e.rate_bps,
        "occurred_at": iso(e.occurred_at),
        "payable_at": iso(e.payable_at),
        "reverses": e.reverses,
        "refund_id": e.refund_id,
        "period": e.period,
        "settles_in": e.settles_in,
        "trace": json.dumps(e.trace, sort_keys=True) if e.trace is not None else None,
        schema.GSI2PK: keys.settle_index(e.settles_in, shard_of(e.partner_id, keys.SHARDS), sub),
        schema.GSI2SK: f"{e.partner_id}#{e.entry_id}",
    }


def entry_from(item: dict[str, Any]) -> Entry:
    return Entry(
        entry_id=item["entry_id"],
        kind=item["kind"],
        partner_id=item["partner_id"],
        order_id=item["order_id"],
        level=item["level"],
        amount_minor=item["amount_minor"],
        currency=item["currency"],
        plan_version=item["plan_version"],
        rate_bps=item["rate_bps"],
        occurred_at=parse_iso(item["occurred_at"]),
        payable_at=parse_iso(item["payable_at"]),
        reverses=item.get("reverses"),
        refund_id=item.get("refund_id"),
        period=item.get("period", ""),
        settles_in=item.get("settles_in", ""),
        trace=json.loads(item["trace"]) if item.get("trace") else None,
    )


def is_entry(item: dict[str, Any]) -> bool:
    return "entry_id" in item


def merged(streams: Iterable[Iterator[dict[str, Any]]], key: str, reverse: bool = False) -> Iterator[dict[str, Any]]:
    """Several sorted streams of items as one, by `key` (each stream sorted the same way)."""
    return heapq.merge(*streams, key=lambda i: i[key], reverse=reverse)


class LedgerRepo:
    def __init__(self, table: Any):
        self.table = table

    def new(self, e: Entry) -> Put:
        """An entry, written once (a retry finds it there)."""
        return put_new(entry_key(e), entry_item(e))

    def sale(
        self,
        partner_id: str,
        order_id: str,
        what: str,
        at: datetime,
        period: str,
        currency: str,
        amount_minor: int,
        counts_order: bool,
    ) -> Put:
        """A sale posting in the partner's ledger partition: what counts an order (refund: negative,
        release) towards the partner's volume in `period` — read by settlement (GSI2
        `SALES#{period}#...`, exact) and by the stats projection (store/stats.py)."""
        sub = sub_of(order_id)
        return put_new(
            keys.ledger_entry(partner_id, sub, f"{iso(at)}#{order_id}#{what}#{SALE}"),
            {
                "sale_partner": partner_id,
                "sale_minor": amount_minor,
                "sale_currency": currency,
                "sale_period": period,
                "order_id": order_id,
                "counts_order": counts_order,
                "at": iso(at),
                schema.GSI2PK: keys.sales_index(period, shard_of(partner_id, keys.SHARDS), sub),
                schema.GSI2SK: f"{partner_id}#{order_id}#{what}",
            },
        )

    def of_partner(
        self, partner_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[Entry]:
        """A partner's entries (those that occurred in [start, end) when given), oldest first, streamed."""
        between = None
        if start is not None or end is not None:
            lo = iso(start) if start is not None else ""
            hi = (iso(end - timedelta(microseconds=1)) if end is not None else "9999") + "~"
            between = (lo, hi)
        streams = [
            self.table.query(keys.ledger_pk(partner_id, sub), sk_between=between, page_size=500)
            if between
            else self.table.query(keys.ledger_pk(partner_id, sub), page_size=500)
            for sub in range(SUBS)
        ]
        for item in merged(streams, key=schema.SK):
            if is_entry(item):
                yield entry_from(item)

    def between(self, partner_id: str, start: datetime, end: datetime) -> Iterator[Entry]:
        """A partner's entries that occurred in [start, end), oldest first."""
        return self.of_partner(partner_id, start, end)

    def written(self, entries: Iterable[Entry]) -> set[str]:
        """The ids of those of `entries` that are already in the ledger."""
        found = self.table.batch_get(entry_key(e) for e in entries)
        return {item["entry_id"] for item in found.values()}

    def to_settle(self, period: str, shard: int, projection: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """The items a period's settlement pays in one shard, merged from its sub-partitions, ordered
        by partner then entry id, page by page (memory stays flat however long the stream)."""
        streams = [
            self.table.query(
                keys.settle_index(period, shard, sub),
                index=schema.GSI2,
                page_size=500,
                projection=[*projection, schema.GSI2SK] if projection else None,
            )
            for sub in range(SUBS)
        ]
        return merged(streams, key=schema.GSI2SK)

    def of_line(self, period: str, partner_id: str) -> Iterator[Entry]:
        """The entries one partner's lines in a period settled, in entry id order."""
        shard = shard_of(partner_id, keys.SHARDS)
        streams = [
            self.table.query(keys.settle_index(period, shard, sub), f"{partner_id}#", index=schema.GSI2)
            for sub in range(SUBS)
        ]
        for item in merged(streams, key=schema.GSI2SK):
            yield entry_from(item)

    def of_order(self, order_id: str, partner_ids: Iterable[str], periods: Iterable[str]) -> list[Entry]:
        """Every entry an order produced for `partner_ids` that settles in one of `periods` (or is
        held): an order's entry ids all start with the order id, and its entries all sit in the
        order's sub-partition of each partner's settlement index, so each (partner, period) is one
        exact key-range query; no scan, and no read of any other order's entries."""
        sub = sub_of(order_id)
        out: list[Entry] = []
        for pid in dict.fromkeys(partner_ids):
            shard = shard_of(pid, keys.SHARDS)
            for period in dict.fromkeys(periods):
                for item in self.table.query(
                    keys.settle_index(period, shard, sub), f"{pid}#{order_id}#", index=schema.GSI2
                ):
                    out.append(entry_from(item))
        return sorted(out, key=lambda e: (e.occurred_at, e.partner_id, e.entry_id))

    def settle_page(self, period: str, shard: int, after: str | None, partner_id: str | None) -> Iterator[Entry]:
        """A period's entries in one settlement shard, ordered by partner then entry id, starting
        after the position `after` (a cursor's), only `partner_id`'s when given; streamed."""
        prefix = f"{partner_id}#" if partner_id else None
        streams = [
            self.table.query(
                keys.settle_index(period, shard, sub),
                None if after else prefix,
                sk_between=(after, (prefix or "") + "\uffff") if after else None,
                index=schema.GSI2,
                page_size=100,
            )
            for sub in range(SUBS)
        ]
        for item in merged(streams, key=schema.GSI2SK):
            if after is not None and item[schema.GSI2SK] <= after:
                continue  # the cursor's own item (the range is inclusive)
            yield entry_from(item)


def position(e: Entry) -> str:
    """An entry's place in a settlement shard's order (what a ledger cursor remembers)."""
    return f"{e.partner_id}#{e.entry_id}"
