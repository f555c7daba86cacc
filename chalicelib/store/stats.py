"""Partners' running figures: a projection of their ledgers, written off the request path by the
stream projector (services/projection.py), never inside an order's transaction.

- `PARTNER#{id}/STATS`: orders, sales, credited and reversed commissions per currency, all time;
- `PARTNER#{id}/PERIOD#{p}`: sales and refunds per currency in a period (the mid-period estimate of
  bonus progress; settlement itself counts the sale postings, exactly).

Applying a batch twice changes nothing. Every change to a partner's ledger comes from one of its
ledger partitions, whose stream records arrive in order; each figures item remembers, per ledger
partition, the sequence number of the last record it has taken in, and an update moves those marks
only from the values read, in the same conditional write as the figures it adds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import keys, ops
from .dynamo import plain_value
from .ledger import entry_from, is_entry
from .ops import Update, eq
from .reads import Reads

MARK = "w#"  # attribute prefix of the per-partition sequence marks
TOTAL = "total"


@dataclass(frozen=True)
class Figures:
    """One figures item: the partner's all-time figures, or its figures in one period."""

    partner_id: str
    period: str  # TOTAL, or a period id
    figures: dict[str, int] = field(default_factory=dict)
    marks: dict[str, str] = field(default_factory=dict)  # ledger partition -> last sequence number taken in


@dataclass(frozen=True)
class LedgerChange:
    """A new item in a partner's ledger partition, as its stream record tells it."""

    partner_id: str
    partition: str  # the ledger sub-partition, "00".."15"
    seq: str  # the record's sequence number, zero-padded so it compares as a string
    entry: Any = None  # an Entry, or None for a sale posting
    sale: dict[str, Any] | None = None  # the sale posting's figures: partner, period, currency, amount


def _key(partner_id: str, period: str) -> keys.Key:
    return keys.partner_stats(partner_id) if period == TOTAL else keys.partner_period(partner_id, period)


def _figures_from(partner_id: str, period: str, item: dict[str, Any] | None) -> Figures:
    item = item or {}
    figures = {
        k: int(v)
        for k, v in item.items()
        if k.startswith(("credited_", "reversed_", "sales_", "refunds_")) or k == "attributed_orders"
    }
    marks = {k[len(MARK) :]: v for k, v in item.items() if k.startswith(MARK)}
    return Figures(partner_id, period, figures, marks)


def ledger_changes(records: Iterable[dict[str, Any]]) -> list[LedgerChange]:
    """The inserts into ledger partitions among raw stream records ({"event_name", "keys",
    "new_image", "sequence_number"}), in the order given; everything else is not a ledger change."""
    out = []
    for r in records:
        if r.get("event_name") != "INSERT" or not r.get("new_image"):
            continue
        pk = plain_value(r["keys"]["PK"])
        if not pk.startswith("LEDGER#"):
            continue
        item = {k: plain_value(v) for k, v in r["new_image"].items()}
        partner_id, partition = pk[len("LEDGER#") :].rsplit("#", 1)
        seq = str(r["sequence_number"]).zfill(40)
        if is_entry(item):
            out.append(LedgerChange(partner_id, partition, seq, entry=entry_from(item)))
        elif "sale_partner" in item:
            out.append(LedgerChange(partner_id, partition, seq, sale=item))
    return out


class StatsRepo:
    def __init__(self, table: Any):
        self.table = table

    def of(self, partner_id: str) -> Reads[Figures]:
        """A partner's all-time figures, to ride along in a batch read."""
        key = _key(partner_id, TOTAL)
        return Reads((key,), lambda found: _figures_from(partner_id, TOTAL, found.get(key)))

    def get_many(self, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Figures]:
        """(partner, TOTAL or period) -> its figures (empty when none were written yet)."""
        pairs = list(dict.fromkeys(wanted))
        found = self.table.batch_get(_key(p, per) for p, per in pairs)
        return {(p, per): _figures_from(p, per, found.get(_key(p, per))) for p, per in pairs}

    def in_period(self, partner_ids: Iterable[str], period: str) -> dict[str, dict[str, int]]:
        """currency -> sales less refunds in `period`, per partner, as projected so far."""
        got = self.get_many((p, period) for p in partner_ids)
        out: dict[str, dict[str, int]] = {}
        for (pid, _), f in got.items():
            net: dict[str, int] = {}
            for k, v in f.figures.items():
                if k.startswith("sales_"):
                    net[k[6:]] = net.get(k[6:], 0) + v
                elif k.startswith("refunds_"):
                    net[k[8:]] = net.get(k[8:], 0) - v
            if net:
                out[pid] = net
        return out

    def apply(self, f: Figures, marks: dict[str, str], deltas: dict[str, int]) -> Update:
        """Add `deltas` and move each partition's mark to the given sequence number, only from the
        marks as read: a record taken in once is never taken in again."""
        when: list[ops.Cond] = [
            ops.Absent(MARK + part) if f.marks.get(part) is None else eq(MARK + part, f.marks[part])
            for part in sorted(marks)
        ]
        sets: dict[str, Any] = {MARK + part: seq for part, seq in marks.items()}
        sets["partner_id"] = f.partner_id
        if f.period != TOTAL:
            sets["period"] = f.period
        return Update(
            _key(f.partner_id, f.period),
            add=dict(sorted(deltas.items())),
            set=sets,
            when=ops.All(tuple(when)) if len(when) > 1 else when[0],
        )
