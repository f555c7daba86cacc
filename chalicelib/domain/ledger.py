"""Ledger entries are immutable; an entry's state is derived from time and from later entries."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from .commissions import CommissionLine
from .periods import Calendar

COMMISSION = "commission"
REVERSAL = "reversal"
BONUS = "bonus"
PAYOUT_RETURN = "payout_return"  # a failed payout's amount, given back to the partner's balance

PENDING, PAYABLE, PAID, REVERSED = "pending", "payable", "paid", "reversed"
HELD, RELEASED = "held", "released"  # a commission held for fraud review; released by an admin
HOLD = "HOLD"  # the settles_in of a held entry: no settlement period ever includes it


@dataclass(frozen=True)
class Entry:
    entry_id: str
    kind: str
    partner_id: str
    order_id: str
    level: int
    amount_minor: int  # negative for a reversal
    currency: str
    plan_version: int
    rate_bps: int
    occurred_at: datetime
    payable_at: datetime
    reverses: str | None = None
    refund_id: str | None = None
    period: str = ""  # the commission period it belongs to (see domain/periods.py)
    settles_in: str = ""  # the period whose settlement pays it
    trace: dict | None = None  # for a bonus: how the amount was computed


def commission_entry_id(order_id: str, level: int) -> str:
    return f"{order_id}#L{level}"


def reversal_entry_id(order_id: str, refund_id: str, level: int) -> str:
    return f"{order_id}#R#{refund_id}#L{level}"


def bonus_entry_id(period: str, kind: str, partner_id: str) -> str:
    return f"bonus#{period}#{kind}#{partner_id}"


def payout_return_entry_id(payout_id: str) -> str:
    return f"return#{payout_id}"


def commission_entries(
    order_id: str, currency: str, occurred_at: datetime, plan_version: int, holding_days: int,
    lines: Iterable[CommissionLine], cal: Calendar, period: str,
) -> list[Entry]:
    """`period` is where the order's entries land (Calendar.landing_period)."""
    payable_at = occurred_at + timedelta(days=holding_days)
    settles_in = cal.settles_in(period, payable_at)
    return [
        Entry(commission_entry_id(order_id, ln.level), COMMISSION, ln.partner_id, order_id, ln.level,
              ln.amount_minor, currency, plan_version, ln.rate_bps, occurred_at, payable_at,
              period=period, settles_in=settles_in)
        for ln in lines
    ]


def reversal_entry(original: Entry, refund_id: str, amount_minor: int, occurred_at: datetime,
                   cal: Calendar, period: str) -> Entry:
    """A new entry that takes back `amount_minor` (positive) of `original`. It is settled no earlier
    than the entry it reverses, so a refund never claws back what has not been paid yet."""
    settles_in = max(cal.settles_in(period, occurred_at), original.settles_in or period)
    return Entry(
        reversal_entry_id(original.order_id, refund_id, original.level), REVERSAL, original.partner_id,
        original.order_id, original.level, -amount_minor, original.currency, original.plan_version,
        original.rate_bps, occurred_at, occurred_at, reverses=original.entry_id, refund_id=refund_id,
        period=period, settles_in=settles_in,
    )


def entry_states(entries: Iterable[Entry], now: datetime, paid_ids: frozenset[str] = frozenset()) -> dict[str, str]:
    """State of each entry: a reversal is 'reversed'; a commission is reversed once its reversals net
    it to zero; otherwise an entry is paid once settled, payable once its holding period has passed,
    pending before."""
    entries = list(entries)
    reversed_by: dict[str, int] = defaultdict(int)
    for e in entries:
        if e.reverses:
            reversed_by[e.reverses] += -e.amount_minor
    released = {e.trace["releases"] for e in entries if e.trace and e.trace.get("releases")}
    states = {}
    for e in entries:
        if e.kind == REVERSAL:
            states[e.entry_id] = REVERSED
        elif e.kind == COMMISSION and reversed_by[e.entry_id] >= e.amount_minor:
            states[e.entry_id] = REVERSED
        elif e.settles_in == HOLD:
            states[e.entry_id] = RELEASED if e.entry_id in released else HELD
        elif e.entry_id in paid_ids:
            states[e.entry_id] = PAID
        elif now < e.payable_at:
            states[e.entry_id] = PENDING
        else:
            states[e.entry_id] = PAYABLE
    return states


def totals_by_state(entries: Iterable[Entry], now: datetime,
                    paid_ids: frozenset[str] = frozenset()) -> dict[str, dict[str, int]]:
    """currency -> state -> net minor units (a partly reversed commission counts its net)."""
    entries = list(entries)
    states = entry_states(entries, now, paid_ids)
    net: dict[str, int] = {e.entry_id: e.amount_minor for e in entries if e.kind != REVERSAL}
    reversed_total: dict[str, int] = defaultdict(int)
    for e in entries:
        if e.reverses in net:
            net[e.reverses] += e.amount_minor
            reversed_total[e.currency] += -e.amount_minor
    out: dict[str, dict[str, int]] = defaultdict(lambda: {PENDING: 0, PAYABLE: 0, PAID: 0, REVERSED: 0})
    for e in entries:
        if e.kind != REVERSAL and states[e.entry_id] in (PENDING, PAYABLE, PAID):
            out[e.currency][states[e.entry_id]] += net[e.entry_id]
        elif e.kind != REVERSAL and states[e.entry_id] == HELD:
            out[e.currency][HELD] = out[e.currency].get(HELD, 0) + net[e.entry_id]
    for cur, amount in reversed_total.items():
        out[cur][REVERSED] += amount
    return {k: dict(v) for k, v in out.items()}
