"""Settlement storage: periods, volumes, targets, batches, their lines and shards, carried balances,
bounced payouts, and the ledger as settlement reads and writes it.

Every write that moves money is a create or a conditional write committed with what it moves, so a
rerun after a crash, or a second run racing the first, finds "already there" instead of paying twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.ledger import BONUS, Entry, LineFate
from ..domain.periods import CLOSING, OPEN
from ..domain.settlement import BUILDING, FAILED, RECONCILIATION_FAILED, Control, Line, Posting, shard_of
from . import keys, ops, schema
from .items import iso
from .ledger import SUBS, LedgerRepo, entry_from, entry_item, entry_key
from .ops import Put, Update, eq, put_new
from .stats import _figures_from as figures_from

SHARDS = keys.SHARDS  # settlement's shards of partners (GSI2 partitions and SQS messages)
PAGE = 500  # items per page when streaming a settlement: memory stays flat however long the stream

LINE_FIELDS = (
    "commissions_minor",
    "bonuses_minor",
    "clawbacks_minor",
    "adjustments_minor",
    "entry_count",
    "carried_in_minor",
    "payout_minor",
    "carried_out_minor",
)
BONUSES_PER_TRANSACTION = 100  # conditional puts: the transaction limit
LINES_PER_TRANSACTION = 25  # a line and its carried balance each: 50 items


def line_from(item: dict[str, Any]) -> Line:
    return Line(item["period"], item["partner_id"], item["currency"], *(item[f] for f in LINE_FIELDS))


@dataclass(frozen=True)
class NewLine:
    line: Line
    shard: int
    partner_name: str
    payout_method: str
    carry_before: str | None  # the period the partner's balance was last carried from, if any


def _line_ops(new: NewLine) -> list[ops.TransactOp]:
    line = new.line
    carry_from = ops.Absent() if new.carry_before is None else eq("period", new.carry_before)
    return [
        put_new(
            keys.batch_line(line.period, line.partner_id, line.currency),
            {
                "period": line.period,
                "partner_id": line.partner_id,
                "currency": line.currency,
                "shard": new.shard,
                "partner_name": new.partner_name,
                "payout_method": new.payout_method,
                **{f: getattr(line, f) for f in LINE_FIELDS},
                schema.GSI1PK: keys.partner_payouts_index(line.partner_id),
                schema.GSI1SK: f"{line.period}#{line.currency}",
            },
        ),
        Put(
            keys.carry(line.partner_id, line.currency),
            {
                "partner_id": line.partner_id,
                "currency": line.currency,
                "period": line.period,
                "amount_minor": line.carried_out_minor,
            },
            when=carry_from,
        ),
    ]


class SettlementStore:
    def __init__(self, table: Any):
        self.table = table
        self.ledger = LedgerRepo(table)

    def _commit(self, operations: list[ops.TransactOp]) -> bool:
        """All or nothing; False when a condition did not hold (a rerun or a racing run got there)."""
        try:
            self.table.commit(operations)
            return True
        except ops.Cancelled as c:
            if c.conflict and not c.failed:
                raise
            return False

    # ---- program and periods ---------------------------------------------------------------
    def settled_through(self) -> str | None:
        item = self.table.get(keys.settlement_state())
        return item.get("settled_through") if item else None

    def set_settled_through(self, period: str) -> None:
        self.table.write(
            Update(
                keys.settlement_state(),
                set={"settled_through": period},
                when=ops.Absent("settled_through") | ops.lt("settled_through", period),
            )
        )

    def period(self, period: str) -> dict[str, Any] | None:
        return self.table.get(keys.period(period))

    def start_closing(self, period: str, now: datetime, by: str) -> str:
        """The period's own record of settlement's progress (orders never read it: they land by time,
        and settlement starts only a fence after the lock). Returns its status after the call."""
        self.table.write(
            Update(
                keys.period(period),
                set={"status": CLOSING, "closing_at": iso(now), "closing_by": by},
                when=ops.Absent("status") | eq("status", OPEN),
            )
        )
        record = self.period(period)
        assert record is not None  # written just now, and period records are never deleted
        return record["status"]

    def set_period_status(
        self, period: str, from_status: str, to_status: str, now: datetime, bonus_counts: dict[int, int] | None = None
    ) -> bool:
        """Move a period on; `bonus_counts` (bonus entries per shard) is recorded with the move to
        `bonused`, so each shard can check the index shows them all before it settles."""
        sets: dict[str, Any] = {"status": to_status, f"{to_status}_at": iso(now)}
        if bonus_counts is not None:
            sets["bonus_counts"] = {str(k): v for k, v in bonus_counts.items()}
        return self.table.write(Update(keys.period(period), set=sets, when=eq("status", from_status)))

    def bonus_entries_visible(self, period: str, shard: int) -> int:
        """Bonus entries the settlement index shows for one shard (an index is read eventually)."""
        return sum(
            self.table.count_where(keys.settle_index(period, shard, sub), eq("kind", BONUS), index=schema.GSI2)
            for sub in range(SUBS)
        )

    # ---- volumes and targets ---------------------------------------------------------------
    def volumes(self, period: str) -> Iterator[tuple[str, dict[str, int]]]:
        """(partner, currency -> sales less refunds) for every partner with sales postings in the
        period: orders, refunds and releases write them with the order (store/ledger.py), so this is
        exact once the period's fence has passed."""
        for shard in range(keys.SHARDS):
            totals: dict[str, dict[str, int]] = {}
            for sub in range(SUBS):
                for item in self.table.query(
                    keys.sales_index(period, shard, sub),
                    index=schema.GSI2,
                    projection=["sale_partner", "sale_currency", "sale_minor"],
                ):
                    cur = totals.setdefault(item["sale_partner"], {})
                    cur[item["sale_currency"]] = cur.get(item["sale_currency"], 0) + item["sale_minor"]
            yield from sorted(totals.items())

    def targets(self, partner_ids: Iterable[str], period: str) -> dict[str, int]:
        found = self.table.batch_get(keys.target(p, period) for p in partner_ids)
        return {item["partner_id"]: item["target_minor"] for item in found.values()}

    def set_target(self, partner_id: str, period: str, target_minor: int, by: str, now: datetime) -> None:
        self.table.write(
            Put(
                keys.target(partner_id, period),
                {
                    "partner_id": partner_id,
                    "period": period,
                    "target_minor": target_minor,
                    "set_by": by,
                    "set_at": iso(now),
                },
            )
        )

    def target(self, partner_id: str, period: str) -> int | None:
        item = self.table.get(keys.target(partner_id, period))
        return item["target_minor"] if item else None

    def record_rank(self, partner_id: str, period: str, rank: str, previous: str, evaluated_in: str) -> None:
        self.table.write(
            Put(
                keys.partner_rank(partner_id, period),
                {
                    "partner_id": partner_id,
                    "period": period,
                    "rank": rank,
                    "previous": previous,
                    "evaluated_in": evaluated_in,
                },
            )
        )

    # ---- the ledger, as settlement reads and writes it ---------------------------------------
    def write_bonuses(self, entries: list[Entry]) -> None:
        """Bonus entries, many per transaction. If a transaction fails (some were already written by
        an earlier or a concurrent run), its entries are written one by one, each skipped when
        already there: the outcome is the same either way."""
        for start in range(0, len(entries), BONUSES_PER_TRANSACTION):
            chunk = entries[start : start + BONUSES_PER_TRANSACTION]
            if not self._commit([self.ledger.new(e) for e in chunk]):
                for e in chunk:
                    self.table.write(self.ledger.new(e))

    def written(self, entries: Iterable[Entry]) -> set[str]:
        return self.ledger.written(entries)

    def entry(self, e: Entry) -> dict[str, Any] | None:
        return self.table.get(entry_key(e))

    def entries_to_settle(self, period: str, shard: int) -> Iterator[Entry]:
        """The entries a period's settlement pays in one shard, ordered by partner, page by page."""
        for item in self.ledger.to_settle(period, shard):
            yield entry_from(item)

    def entries_of_period(self, period: str) -> Iterator[Entry]:
        """Every entry a period's settlement pays, shard after shard: queries on the settlement
        index (reports read this, the compliance report among them), never a scan."""
        for shard in range(keys.SHARDS):
            yield from self.entries_to_settle(period, shard)

    def postings_to_settle(self, period: str, shard: int) -> Iterator[Posting]:
        """The same stream, only what a payout line adds up: a fraction of the bytes to fetch and parse."""
        for item in self.ledger.to_settle(period, shard, ["partner_id", "currency", "kind", "amount_minor"]):
            yield Posting(item["partner_id"], item["currency"], item["kind"], item["amount_minor"])

    def entries_of_line(self, period: str, partner_id: str) -> Iterator[Entry]:
        """The entries one partner's lines in a period settled."""
        return self.ledger.of_line(period, partner_id)

    # ---- bounced payouts: reported, then confirmed (or dismissed) by a second person -----------
    def line_item(self, period: str, partner_id: str, currency: str) -> dict[str, Any] | None:
        """A line as stored, with its payout and bounce state (read consistently)."""
        return self.table.get(keys.batch_line(period, partner_id, currency))

    def report_bounce(
        self, line: Line, reason: str, by: str, now: datetime, event: dict[str, Any], audit: list[ops.TransactOp]
    ) -> bool:
        """Record that a payout bounced (it moves no money yet), with the batch event and the audit
        record, as one transaction; only on a payout that is neither failed nor already reported."""
        return self._commit(
            [
                Update(
                    keys.batch_line(line.period, line.partner_id, line.currency),
                    set={
                        "bounce_status": "reported",
                        "bounce_reason": reason,
                        "bounce_reported_by": by,
                        "bounce_reported_at": iso(now),
                    },
                    remove=("bounce_dismissed_by", "bounce_dismissed_at", "bounce_dismissal"),
                    when=ops.gt("payout_minor", 0)
                    & ops.Absent("payout_status")
                    & (ops.Absent("bounce_status") | eq("bounce_status", "dismissed")),
                ),
                put_new(keys.batch_event(line.period, event["event_id"]), event),
                *audit,
            ]
        )

    def confirm_bounce(
        self,
        line: Line,
        entry: Entry,
        reporter: str,
        reason: str,
        by: str,
        now: datetime,
        event: dict[str, Any],
        audit: list[ops.TransactOp],
    ) -> bool:
        """The second person's confirmation: the payout is failed and its amount is given back to
        the partner's balance as a new ledger entry, with the event and the audit record, as one
        transaction; only while the report `reporter` made is still the one pending."""
        return self._commit(
            [
                self.ledger.new(entry),
                Update(
                    keys.batch_line(line.period, line.partner_id, line.currency),
                    set={
                        "payout_status": "failed",
                        "failed_by": reporter,
                        "failed_at": iso(now),
                        "failure_reason": reason,
                        "bounce_status": "confirmed",
                        "bounce_confirmed_by": by,
                        "bounce_confirmed_at": iso(now),
                    },
                    when=eq("bounce_status", "reported")
                    & eq("bounce_reported_by", reporter)
                    & eq("bounce_reason", reason)
                    & ops.Absent("payout_status"),
                ),
                put_new(keys.batch_event(line.period, event["event_id"]), event),
                *audit,
            ]
        )

    def dismiss_bounce(
        self,
        line: Line,
        reporter: str,
        reason: str,
        by: str,
        now: datetime,
        event: dict[str, Any],
        audit: list[ops.TransactOp],
    ) -> bool:
        """A pending report withdrawn (the payout did not bounce after all): nothing moves."""
        return self._commit(
            [
                Update(
                    keys.batch_line(line.period, line.partner_id, line.currency),
                    set={
                        "bounce_status": "dismissed",
                        "bounce_dismissed_by": by,
                        "bounce_dismissed_at": iso(now),
                        "bounce_dismissal": reason,
                    },
                    when=eq("bounce_status", "reported") & eq("bounce_reported_by", reporter),
                ),
                put_new(keys.batch_event(line.period, event["event_id"]), event),
                *audit,
            ]
        )

    def write_audit(self, audit: list[ops.TransactOp]) -> None:
        """An audit record on its own (a request that changed nothing)."""
        self.table.commit(audit)

    # ---- batches ---------------------------------------------------------------------------
    def batch(self, period: str) -> dict[str, Any] | None:
        item = self.table.get(keys.batch(period))
        if item:
            for k in (schema.PK, schema.SK, schema.GSI1PK, schema.GSI1SK):
                item.pop(k, None)
            item["touched_by"] = sorted(item.get("touched_by") or [])
            for k in ("control", "exports", "reconciliation", "payout_file"):
                if isinstance(item.get(k), str):
                    item[k] = json.loads(item[k])
        return item

    def create_batch(self, period: str, by: str, now: datetime, plan_version: int) -> None:
        self.table.write(
            put_new(
                keys.batch(period),
                {  # a concurrent or earlier run made it: the same batch
                    "batch_id": period,
                    "period": period,
                    "status": BUILDING,
                    "created_by": by,
                    "changed_by": by,
                    "created_at": iso(now),
                    "plan_version": plan_version,
                    "shards": keys.SHARDS,
                    schema.GSI1PK: "BATCHES",
                    schema.GSI1SK: period,
                },
            )
        )

    def touch_batch(self, period: str, by: str) -> None:
        """Remember everyone who did settlement work on a batch: none of them may approve it."""
        self.table.write(Update(keys.batch(period), add={"touched_by": {by}}))

    def batches(self, limit: int = 60) -> list[dict[str, Any]]:
        return [
            self.batch(i["period"]) or i
            for i in self.table.query("BATCHES", index=schema.GSI1, forward=False, limit=limit)
        ]

    def carries(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        found = self.table.batch_get(keys.carry(p, c) for p, c in pairs)
        return {(i["partner_id"], i["currency"]): i for i in found.values()}

    def lines_at(self, period: str, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Line]:
        found = self.table.batch_get(keys.batch_line(period, p, c) for p, c in pairs)
        return {(i["partner_id"], i["currency"]): line_from(i) for i in found.values()}

    def write_lines(self, lines: list[NewLine]) -> list[bool]:
        """Lines with their carried balances, many per transaction; for each line, False when it
        was already written (by an earlier or a concurrent run). A transaction that fails is
        retried line by line, so each line still lands exactly once."""
        written: list[bool] = []
        for start in range(0, len(lines), LINES_PER_TRANSACTION):
            chunk = lines[start : start + LINES_PER_TRANSACTION]
            if self._commit([op for new in chunk for op in _line_ops(new)]):
                written += [True] * len(chunk)
            else:
                written += [self._commit(_line_ops(new)) for new in chunk]
        return written

    def line_fates(self, partner_id: str, wanted: Iterable[tuple[str, str]]) -> list[LineFate]:
        """The partner's lines for (period, currency) pairs, with their batch's status and whether
        their payout failed: what `domain.ledger.entry_states` needs. Two batch reads."""
        lines = self.table.batch_get(keys.batch_line(p, partner_id, c) for p, c in wanted)
        batches = self.table.batch_get(keys.batch(p) for p in {i["period"] for i in lines.values()})
        return [
            LineFate(
                i["period"],
                i["currency"],
                i["payout_minor"],
                (batches.get(keys.batch(i["period"])) or {}).get("status", BUILDING),
                i.get("payout_status") == FAILED,
            )
            for i in lines.values()
        ]

    def lines_of_partner(
        self, partner_id: str, limit: int = 36, period: str | None = None
    ) -> list[tuple[Line, dict[str, Any]]]:
        """A partner's settlement lines, newest period first (only `period`'s, when given)."""
        return [
            (line_from(item), item)
            for item in self.table.query(
                keys.partner_payouts_index(partner_id),
                f"{period}#" if period else None,
                index=schema.GSI1,
                forward=False,
                limit=limit,
            )
        ]

    def partner_periods(self, partner_id: str) -> tuple[dict[str, dict[str, int]], list[dict[str, Any]]]:
        """A partner's volumes per period as projected (period -> currency -> sales less refunds) and
        its carried balances (one per currency: the amount and the period it was carried from)."""
        pk, period_prefix = keys.partner_period(partner_id, "")
        volumes: dict[str, dict[str, int]] = {}
        for item in self.table.query(pk, period_prefix):
            f = figures_from(partner_id, item["period"], item)
            net: dict[str, int] = {}
            for k, v in f.figures.items():
                if k.startswith("sales_"):
                    net[k[6:]] = net.get(k[6:], 0) + v
                elif k.startswith("refunds_"):
                    net[k[8:]] = net.get(k[8:], 0) - v
            volumes[item["period"]] = net
        carries = [
            {k: item[k] for k in ("currency", "period", "amount_minor")}
            for item in self.table.query(pk, keys.carry(partner_id, "")[1], consistent=True)
        ]
        return volumes, carries

    def lines_page(self, period: str, after: str | None, limit: int) -> list[tuple[Line, dict[str, Any]]]:
        """Up to `limit` lines of a batch in key order (partner, then currency), after the line
        `after` names ("partner#currency"): one query of a page, however many lines the batch has."""
        pk = keys.batch(period)[0]
        if after is None:
            items = self.table.query(pk, keys.LINE_PREFIX, limit=limit, consistent=True)
        else:
            start = keys.batch_line(period, *after.rsplit("#", 1))[1]
            items = self.table.query(
                pk, sk_between=(start, keys.LINE_PREFIX + "\uffff"), limit=limit + 1, consistent=True
            )
        out = [(line_from(i), i) for i in items if after is None or f"{i['partner_id']}#{i['currency']}" != after]
        return out[:limit]

    def lines(self, period: str) -> Iterator[tuple[Line, dict[str, Any]]]:
        """Every line of a batch with its stored details, ordered by partner and currency."""
        for item in self.table.query(keys.batch(period)[0], keys.LINE_PREFIX, page_size=PAGE, consistent=True):
            yield line_from(item), item

    def shard_done(self, period: str, shard: int) -> bool:
        return self.table.get(keys.batch_shard(period, shard)) is not None

    def finish_shard(self, period: str, shard: int, control: dict[str, Control]) -> None:
        self.table.write(
            put_new(
                keys.batch_shard(period, shard),
                {
                    "period": period,
                    "shard": shard,
                    "control": json.dumps({c: t.as_dict() for c, t in control.items()}, sort_keys=True),
                },
            )
        )

    def shards_done(self, period: str) -> int:
        return sum(
            1
            for _ in self.table.query(keys.batch(period)[0], keys.SHARD_PREFIX, projection=[schema.PK], consistent=True)
        )

    def finish_batch(
        self,
        period: str,
        status: str,
        control: dict[str, Any],
        exports: dict[str, Any],
        reconciliation: dict[str, Any],
        now: datetime,
    ) -> bool:
        return self.table.write(
            Update(
                keys.batch(period),
                set={
                    "status": status,
                    "control": json.dumps(control, sort_keys=True),
                    "exports": json.dumps(exports, sort_keys=True),
                    "reconciliation": json.dumps(reconciliation, sort_keys=True),
                    "finished_at": iso(now),
                },
                when=ops.one_of("status", BUILDING, RECONCILIATION_FAILED),
            )
        )

    def transition(
        self, period: str, from_status: str, to_status: str, by: str, now: datetime, extra: dict[str, Any] | None = None
    ) -> bool:
        sets: dict[str, Any] = {"status": to_status, f"{to_status}_by": by, f"{to_status}_at": iso(now)}
        for k, v in (extra or {}).items():
            sets[k] = json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
        return self.table.write(Update(keys.batch(period), set=sets, when=eq("status", from_status)))

    def add_event(self, period: str, event_id: str, attrs: dict[str, Any]) -> None:
        self.table.write(put_new(keys.batch_event(period, event_id), attrs))

    def events(self, period: str) -> list[dict[str, Any]]:
        return list(self.table.query(keys.batch(period)[0], keys.EVENT_PREFIX, consistent=True))


__all__ = ["NewLine", "SettlementStore", "entry_item", "line_from", "shard_of"]
