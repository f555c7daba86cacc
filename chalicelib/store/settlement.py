"""Settlement storage: periods, volumes, targets, batches, their lines and shards, carried balances.

Every write that moves money is a conditional put inside one transaction with what it moves, so a
rerun after a crash, or a second run racing the first, finds "already there" instead of paying twice.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Iterator

from ..domain.errors import AlreadyExists, ConcurrentUpdate
from ..domain.ledger import BONUS, Entry
from ..domain.periods import CLOSING, OPEN
from ..domain.settlement import BUILDING, RECONCILIATION_FAILED, Control, Line, Posting, shard_of
from . import keys, schema
from .dynamo import Op, Table
from .repository import entry_from, entry_item, iso

PAGE = 500  # items per page when streaming a settlement: memory stays flat however long the stream

LINE_FIELDS = ("commissions_minor", "bonuses_minor", "clawbacks_minor", "adjustments_minor", "entry_count",
               "carried_in_minor", "payout_minor", "carried_out_minor")


def line_from(item: dict[str, Any]) -> Line:
    return Line(item["period"], item["partner_id"], item["currency"], *(item[f] for f in LINE_FIELDS))


BONUSES_PER_TRANSACTION = 100  # conditional puts: the transaction limit
LINES_PER_TRANSACTION = 25  # a line and its carried balance each: 50 items


@dataclass(frozen=True)
class NewLine:
    line: Line
    shard: int
    partner_name: str
    payout_method: str
    carry_before: str | None  # the period the partner's balance was last carried from, if any


def _net_volume(item: dict[str, Any]) -> dict[str, int]:
    """currency -> sales less refunds, from a partner's period volume item."""
    net: dict[str, int] = {}
    for k, v in item.items():
        if k.startswith("sales_"):
            net[k[6:]] = net.get(k[6:], 0) + v
        elif k.startswith("refunds_"):
            net[k[8:]] = net.get(k[8:], 0) - v
    return net


def _line_ops(new: NewLine) -> list[dict[str, Any]]:
    line = new.line
    carry_cond = "attribute_not_exists(PK)" if new.carry_before is None else "#per = :before"
    return [
        Op.put_new(keys.batch_line(line.period, line.partner_id, line.currency), {
            "period": line.period, "partner_id": line.partner_id, "currency": line.currency,
            "shard": new.shard, "partner_name": new.partner_name, "payout_method": new.payout_method,
            **{f: getattr(line, f) for f in LINE_FIELDS},
            schema.GSI1PK: keys.partner_payouts_index(line.partner_id),
            schema.GSI1SK: f"{line.period}#{line.currency}",
        }),
        Op.put(keys.carry(line.partner_id, line.currency),
               {"partner_id": line.partner_id, "currency": line.currency, "period": line.period,
                "amount_minor": line.carried_out_minor},
               condition=carry_cond, names={"#per": "period"} if new.carry_before is not None else None,
               values={":before": new.carry_before} if new.carry_before is not None else None),
    ]


class SettlementStore:
    def __init__(self, table: Table):
        self.table = table

    # ---- program and periods ---------------------------------------------------------------
    def settled_through(self) -> str | None:
        item = self.table.get(keys.settlement_state())
        return item.get("settled_through") if item else None

    def set_settled_through(self, period: str) -> None:
        self.table.update(keys.settlement_state(), "SET settled_through = :p",
                          values={":p": period}, condition="attribute_not_exists(settled_through) OR settled_through < :p")

    def period(self, period: str) -> dict[str, Any] | None:
        return self.table.get(keys.period(period))

    def start_closing(self, period: str, now: datetime, by: str) -> str:
        """Stop entries from landing in the period (orders check its status in their transaction).
        Returns the period's status after the call."""
        self.table.update(keys.period(period), "SET #st = :closing, closing_at = :at, closing_by = :by",
                          names={"#st": "status"}, values={":closing": CLOSING, ":open": OPEN, ":at": iso(now), ":by": by},
                          condition="attribute_not_exists(#st) OR #st = :open")
        return self.period(period)["status"]

    def set_period_status(self, period: str, from_status: str, to_status: str, now: datetime,
                          bonus_counts: dict[int, int] | None = None) -> bool:
        """Move a period on; `bonus_counts` (bonus entries per shard) is recorded with the move to
        `bonused`, so each shard can check the index shows them all before it settles."""
        expression = "SET #st = :to, #at = :now"
        values: dict[str, Any] = {":to": to_status, ":from": from_status, ":now": iso(now)}
        if bonus_counts is not None:
            expression += ", bonus_counts = :bc"
            values[":bc"] = {str(k): v for k, v in bonus_counts.items()}
        return self.table.update(keys.period(period), expression,
                                 names={"#st": "status", "#at": f"{to_status}_at"}, values=values,
                                 condition="#st = :from")

    def bonus_entries_visible(self, period: str, shard: int) -> int:
        """Bonus entries the settlement index shows for one shard (an index is read eventually)."""
        return self.table.count(keys.settle_index(period, shard), index=schema.GSI2,
                                filter_expression="#k = :bonus", names={"#k": "kind"}, values={":bonus": BONUS})

    # ---- volumes and targets ---------------------------------------------------------------
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

    def set_target(self, partner_id: str, period: str, target_minor: int, by: str, now: datetime) -> None:
        self.table.put(keys.target(partner_id, period), {
            "partner_id": partner_id, "period": period, "target_minor": target_minor, "set_by": by, "set_at": iso(now)})

    def record_rank(self, partner_id: str, period: str, rank: str, previous: str, evaluated_in: str) -> None:
        self.table.put(keys.partner_rank(partner_id, period), {
            "partner_id": partner_id, "period": period, "rank": rank, "previous": previous,
            "evaluated_in": evaluated_in})

    # ---- the ledger, as settlement reads and writes it ---------------------------------------
    def write_bonuses(self, entries: list[Entry]) -> None:
        """Bonus entries, many per transaction. If a transaction fails
        (some were already written by an earlier or a concurrent run), its entries are written one
        by one, each skipped when already there: the outcome is the same either way."""
        for start in range(0, len(entries), BONUSES_PER_TRANSACTION):
            chunk = entries[start:start + BONUSES_PER_TRANSACTION]
            ops = [Op.put_new(keys.entry(e.partner_id, e.entry_id), entry_item(e)) for e in chunk]
            try:
                self.table.transact(ops)
            except (AlreadyExists, ConcurrentUpdate):
                for e in chunk:
                    self.write_bonus(e)

    def write_bonus(self, entry: Entry) -> bool:
        """One bonus entry; False when it was already written."""
        try:
            self.table.put_new(keys.entry(entry.partner_id, entry.entry_id), entry_item(entry))
            return True
        except AlreadyExists:
            return False

    # ---- bounced payouts: reported, then confirmed (or dismissed) by a second person -----------
    def line_item(self, period: str, partner_id: str, currency: str) -> dict[str, Any] | None:
        """A line as stored, with its payout and bounce state (read consistently)."""
        return self.table.get(keys.batch_line(period, partner_id, currency))

    def report_bounce(self, line: Line, reason: str, by: str, now: datetime, event: dict[str, Any],
                      audit: list[dict[str, Any]]) -> None:
        """Record that a payout bounced (it moves no money yet), with the batch event and the audit
        record, as one transaction; only on a payout that is neither failed nor already reported."""
        self.table.transact([
            Op.update(keys.batch_line(line.period, line.partner_id, line.currency),
                      "SET bounce_status = :reported, bounce_reason = :why, bounce_reported_by = :by, "
                      "bounce_reported_at = :at REMOVE bounce_dismissed_by, bounce_dismissed_at, bounce_dismissal",
                      values={":reported": "reported", ":why": reason, ":by": by, ":at": iso(now), ":zero": 0,
                              ":dismissed": "dismissed"},
                      condition="payout_minor > :zero AND attribute_not_exists(payout_status) AND "
                                "(attribute_not_exists(bounce_status) OR bounce_status = :dismissed)"),
            Op.put_new(keys.batch_event(line.period, event["event_id"]), event),
            *audit,
        ])

    def confirm_bounce(self, line: Line, entry: Entry, reporter: str, reason: str, by: str, now: datetime,
                       event: dict[str, Any], audit: list[dict[str, Any]]) -> None:
        """The second person's confirmation: the payout is failed and its amount is given back to
        the partner's balance as a new ledger entry, with the event and the audit record, as one
        transaction; only while the report `reporter` made is still the one pending, and while the
        entry's landing period is open."""
        self.table.transact([
            Op.put_new(keys.entry(entry.partner_id, entry.entry_id), entry_item(entry)),
            Op.update(keys.batch_line(line.period, line.partner_id, line.currency),
                      "SET payout_status = :failed, failed_by = :reporter, failed_at = :at, failure_reason = :why, "
                      "bounce_status = :confirmed, bounce_confirmed_by = :by, bounce_confirmed_at = :at",
                      values={":failed": "failed", ":reporter": reporter, ":by": by, ":at": iso(now), ":why": reason,
                              ":confirmed": "confirmed", ":reported": "reported"},
                      condition="bounce_status = :reported AND bounce_reported_by = :reporter AND "
                                "bounce_reason = :why AND attribute_not_exists(payout_status)"),
            Op.check(keys.period(entry.period), "attribute_not_exists(PK) OR #st = :open",
                     names={"#st": "status"}, values={":open": OPEN}),
            Op.put_new(keys.batch_event(line.period, event["event_id"]), event),
            *audit,
        ])

    def dismiss_bounce(self, line: Line, reporter: str, reason: str, by: str, now: datetime,
                       event: dict[str, Any], audit: list[dict[str, Any]]) -> None:
        """A pending report withdrawn (the payout did not bounce after all): nothing moves."""
        self.table.transact([
            Op.update(keys.batch_line(line.period, line.partner_id, line.currency),
                      "SET bounce_status = :dismissed, bounce_dismissed_by = :by, bounce_dismissed_at = :at, "
                      "bounce_dismissal = :why",
                      values={":dismissed": "dismissed", ":by": by, ":at": iso(now), ":why": reason,
                              ":reported": "reported", ":reporter": reporter},
                      condition="bounce_status = :reported AND bounce_reported_by = :reporter"),
            Op.put_new(keys.batch_event(line.period, event["event_id"]), event),
            *audit,
        ])

    def write_audit(self, audit: list[dict[str, Any]]) -> None:
        """An audit record on its own (a request that changed nothing)."""
        self.table.transact(audit)

    def entries_to_settle(self, period: str, shard: int) -> Iterator[Entry]:
        """The entries a period's settlement pays in one shard, ordered by partner, page by page."""
        for item in self.table.query(keys.settle_index(period, shard), index=schema.GSI2, page_size=PAGE):
            yield entry_from(item)

    def postings_to_settle(self, period: str, shard: int) -> Iterator[Posting]:
        """The same stream, only what a payout line adds up: a fraction of the bytes to fetch and parse."""
        for item in self.table.query(keys.settle_index(period, shard), index=schema.GSI2, page_size=PAGE,
                                     projection="partner_id, currency, kind, amount_minor"):
            yield Posting(item["partner_id"], item["currency"], item["kind"], item["amount_minor"])

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
        try:
            self.table.put_new(keys.batch(period), {
                "batch_id": period, "period": period, "status": BUILDING, "created_by": by, "changed_by": by,
                "created_at": iso(now), "plan_version": plan_version, "shards": keys.SHARDS,
                schema.GSI1PK: "BATCHES", schema.GSI1SK: period,
            })
        except AlreadyExists:
            pass  # a concurrent or earlier run made it: the same batch

    def touch_batch(self, period: str, by: str) -> None:
        """Remember everyone who did settlement work on a batch: none of them may approve it."""
        self.table.update(keys.batch(period), "ADD touched_by :who", values={":who": {by}})

    def batches(self, limit: int = 60) -> list[dict[str, Any]]:
        return [self.batch(i["period"]) or i for i in self.table.query("BATCHES", index=schema.GSI1, forward=False,
                                                                        limit=limit)]

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
            chunk = lines[start:start + LINES_PER_TRANSACTION]
            try:
                self.table.transact([op for new in chunk for op in _line_ops(new)])
                written += [True] * len(chunk)
            except (AlreadyExists, ConcurrentUpdate):
                written += [self.write_line(new) for new in chunk]
        return written

    def write_line(self, new: NewLine) -> bool:
        """One line and the partner's carried balance, together; False if already written."""
        try:
            self.table.transact(_line_ops(new))
            return True
        except AlreadyExists:
            return False

    def lines_of_partner(self, partner_id: str, limit: int = 36,
                         period: str | None = None) -> list[tuple[Line, dict[str, Any]]]:
        """A partner's settlement lines, newest period first (only `period`'s, when given)."""
        return [(line_from(item), item) for item in self.table.query(
            keys.partner_payouts_index(partner_id), f"{period}#" if period else None, index=schema.GSI1,
            forward=False, limit=limit)]

    def entries_of_line(self, period: str, partner_id: str) -> Iterator[Entry]:
        """The entries one partner's lines in a period settled."""
        yield from (entry_from(i) for i in self.table.query(
            keys.settle_index(period, shard_of(partner_id, keys.SHARDS)), f"{partner_id}#", index=schema.GSI2))

    def lines(self, period: str) -> Iterator[tuple[Line, dict[str, Any]]]:
        """Every line of a batch with its stored details, ordered by partner and currency."""
        for item in self.table.query(keys.batch(period)[0], keys.LINE_PREFIX, page_size=PAGE, consistent=True):
            yield line_from(item), item

    def shard_done(self, period: str, shard: int) -> bool:
        return self.table.get(keys.batch_shard(period, shard)) is not None

    def finish_shard(self, period: str, shard: int, control: dict[str, Control]) -> None:
        try:
            self.table.put_new(keys.batch_shard(period, shard), {
                "period": period, "shard": shard,
                "control": json.dumps({c: t.as_dict() for c, t in control.items()}, sort_keys=True)})
        except AlreadyExists:
            pass

    def shards_done(self, period: str) -> int:
        return sum(1 for _ in self.table.query(keys.batch(period)[0], keys.SHARD_PREFIX, projection="PK",
                                               consistent=True))

    def finish_batch(self, period: str, status: str, control: dict[str, Any], exports: dict[str, Any],
                     reconciliation: dict[str, Any], now: datetime) -> bool:
        return self.table.update(
            keys.batch(period), "SET #st = :s, control = :c, exports = :e, reconciliation = :r, finished_at = :at",
            names={"#st": "status"},
            values={":s": status, ":c": json.dumps(control, sort_keys=True), ":e": json.dumps(exports, sort_keys=True),
                    ":r": json.dumps(reconciliation, sort_keys=True), ":at": iso(now), ":building": BUILDING,
                    ":failed": RECONCILIATION_FAILED},
            condition="#st IN (:building, :failed)")

    def transition(self, period: str, from_status: str, to_status: str, by: str, now: datetime,
                   extra: dict[str, Any] | None = None) -> bool:
        sets = ["#st = :to", "#by = :by", "#at = :at"]
        values: dict[str, Any] = {":to": to_status, ":from": from_status, ":by": by, ":at": iso(now)}
        names = {"#st": "status", "#by": f"{to_status}_by", "#at": f"{to_status}_at"}
        for i, (k, v) in enumerate((extra or {}).items()):
            names[f"#x{i}"] = k
            values[f":x{i}"] = json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
            sets.append(f"#x{i} = :x{i}")
        return self.table.update(keys.batch(period), "SET " + ", ".join(sets), names=names, values=values,
                                 condition="#st = :from")

    def add_event(self, period: str, event_id: str, attrs: dict[str, Any]) -> None:
        try:
            self.table.put_new(keys.batch_event(period, event_id), attrs)
        except AlreadyExists:
            pass

    def events(self, period: str) -> list[dict[str, Any]]:
        return list(self.table.query(keys.batch(period)[0], keys.EVENT_PREFIX, consistent=True))

