"""Ledger entries are immutable; an entry's state is derived from what settlement did with it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .commissions import CommissionLine
from .periods import Calendar

COMMISSION = "commission"
REVERSAL = "reversal"
BONUS = "bonus"
PAYOUT_RETURN = "payout_return"  # a failed payout's amount, given back to the partner's balance

PENDING, PAYABLE, PAID, REVERSED = "pending", "payable", "paid", "reversed"
IN_PAYMENT = "in_payment"  # in a payout of a batch that is not marked paid yet
RETURNED = "returned"  # in a payout that bounced: its payout_return entry owes the amount again
HELD, RELEASED = "held", "released"  # a commission held for fraud review; released by an admin
STATES = (PENDING, PAYABLE, IN_PAYMENT, PAID, HELD, RETURNED, RELEASED, REVERSED)
BATCH_PAID = "paid"  # a settlement batch's status once the bank confirmed it (domain.settlement.PAID)
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
    order_id: str,
    currency: str,
    occurred_at: datetime,
    plan_version: int,
    holding_days: int,
    lines: Iterable[CommissionLine],
    cal: Calendar,
    period: str,
) -> list[Entry]:
    """`period` is where the order's entries land (Calendar.landing_period)."""
    payable_at = occurred_at + timedelta(days=holding_days)
    settles_in = cal.settles_in(period, payable_at)
    return [
        Entry(
            commission_entry_id(order_id, ln.level),
            COMMISSION,
            ln.partner_id,
            order_id,
            ln.level,
            ln.amount_minor,
            currency,
            plan_version,
            ln.rate_bps,
            occurred_at,
            payable_at,
            period=period,
            settles_in=settles_in,
        )
        for ln in lines
    ]


def reversal_entry(
    original: Entry, refund_id: str, amount_minor: int, occurred_at: datetime, cal: Calendar, period: str
) -> Entry:
    """A new entry that takes back `amount_minor` (positive) of `original`. It is settled no earlier
    than the entry it reverses, so a refund never claws back what has not been paid yet."""
    settles_in = max(cal.settles_in(period, occurred_at), original.settles_in or period)
    return Entry(
        reversal_entry_id(original.order_id, refund_id, original.level),
        REVERSAL,
        original.partner_id,
        original.order_id,
        original.level,
        -amount_minor,
        original.currency,
        original.plan_version,
        original.rate_bps,
        occurred_at,
        occurred_at,
        reverses=original.entry_id,
        refund_id=refund_id,
        period=period,
        settles_in=settles_in,
    )


def dispute_hold_entries(
    entries: Iterable[Entry], left: Iterable[int], dispute_id: str, occurred_at: datetime, cal: Calendar, period: str
) -> list[Entry]:
    """A chargeback opened: each commission's amount still standing (`left`, after refunds) is taken
    back by a reversal that settles like a refund's (a clawback if the commission was paid), and
    held in a copy no settlement pays (`settles_in` HOLD) until the dispute closes: won, the copies
    are released (dispute_release_entries); lost, they stay held for good. Append-only: nothing
    written before changes."""
    out: list[Entry] = []
    for e, amount in zip(entries, left, strict=True):
        if amount <= 0:
            continue
        out.append(reversal_entry(e, f"dispute:{dispute_id}", amount, occurred_at, cal, period))
        out.append(
            Entry(
                f"{e.entry_id}#D#{dispute_id}",
                COMMISSION,
                e.partner_id,
                e.order_id,
                e.level,
                amount,
                e.currency,
                e.plan_version,
                e.rate_bps,
                occurred_at,
                e.payable_at,
                period=period,
                settles_in=HOLD,
                trace={"dispute": dispute_id, "holds": e.entry_id},
            )
        )
    return out


def release_entry(held: Entry, amount_minor: int, at: datetime, cal: Calendar, trace: dict) -> Entry:
    """A held commission paid after all: a new entry for `amount_minor`, landing at `at` and payable
    once the held entry's holding period has passed. The held entry stays as it is (append-only);
    `trace` names what it releases. A fraud hold's release (services/holds.py) and a won dispute's
    (dispute_release_entries) are both this."""
    period = cal.period_of(at)
    payable_at = max(held.payable_at, at)
    return replace(
        held,
        entry_id=f"{held.entry_id}#REL",
        amount_minor=amount_minor,
        occurred_at=at,
        payable_at=payable_at,
        period=period,
        settles_in=cal.settles_in(period, payable_at),
        trace=trace,
    )


def dispute_release_entries(held: Iterable[Entry], dispute_id: str, at: datetime, cal: Calendar) -> list[Entry]:
    """A dispute won: each held copy paid after all (release_entry)."""
    return [
        release_entry(
            e,
            e.amount_minor,
            at,
            cal,
            {"releases": e.entry_id, "released_by": f"dispute {dispute_id} won", "dispute": dispute_id},
        )
        for e in held
    ]


@dataclass(frozen=True)
class LineFate:
    """What state derivation needs of one of a partner's settlement lines (one period, one currency)."""

    period: str
    currency: str
    payout_minor: int
    batch_status: str  # building, draft, approved, paid, reconciliation_failed
    returned: bool = False  # its payout bounced and the bounce was confirmed: a payout_return re-owes it


def _fate_of_lines(lines: Iterable[LineFate]) -> dict[tuple[str, str], str]:
    """(period, currency) -> the state of the entries a line settled. A line that pays takes with it
    everything carried into it, so the entries of the lines that carried (paid nothing) before it
    share its fate; the entries of the lines carried since the last payout are the carried balance,
    owed with the next settlement (payable)."""
    out: dict[tuple[str, str], str] = {}
    by_currency: dict[str, list[LineFate]] = defaultdict(list)
    for ln in lines:
        by_currency[ln.currency].append(ln)
    for currency, lns in by_currency.items():
        carried: list[str] = []
        for ln in sorted(lns, key=lambda x: x.period):
            carried.append(ln.period)
            if ln.payout_minor > 0:
                state = RETURNED if ln.returned else PAID if ln.batch_status == BATCH_PAID else IN_PAYMENT
                out.update({(p, currency): state for p in carried})
                carried = []
        out.update({(p, currency): PAYABLE for p in carried})
    return out


def entry_states(entries: Iterable[Entry], due_through: str, lines: Iterable[LineFate] = ()) -> dict[str, str]:
    """The state of each entry: the one place its amount counts in what a person is shown.

    It follows what settlement does with the entry, never a rule of its own: an entry in a line
    takes the fate of the payout that line's balance went into (paid, in payment, returned when the
    payout bounced), or is payable while it sits in the carried balance; an entry no line has taken
    yet is payable once its settlement period is due (`due_through`: the last period past its lock,
    so the next settlement run pays it), pending before. Held entries are held until released, and
    then `released` (their release entries carry the amount). A commission whose reversals net it
    to zero in one and the same state is shown, with them, as `reversed`. So the totals by state add
    up to the ledger, and payable is what the next run would pay (before the bonuses it computes)."""
    entries = list(entries)
    fates = _fate_of_lines(lines)
    released = {e.trace["releases"] for e in entries if e.trace and e.trace.get("releases")}
    states: dict[str, str] = {}
    for e in entries:
        if e.settles_in == HOLD:
            states[e.entry_id] = RELEASED if (e.reverses or e.entry_id) in released else HELD
        elif (e.settles_in, e.currency) in fates:
            states[e.entry_id] = fates[(e.settles_in, e.currency)]
        else:
            states[e.entry_id] = PAYABLE if e.settles_in <= due_through else PENDING
    groups: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        groups[e.reverses or e.entry_id].append(e)
    for group in groups.values():
        if len(group) > 1 and sum(e.amount_minor for e in group) == 0 and len({states[e.entry_id] for e in group}) == 1:
            states.update({e.entry_id: REVERSED for e in group})
    return states


def totals_by_state(
    entries: Iterable[Entry], due_through: str, lines: Iterable[LineFate] = ()
) -> dict[str, dict[str, int]]:
    """currency -> state -> minor units: each entry counted once, in its state (see entry_states).
    Their sum is the ledger's. `returned` and `released` are amounts superseded by a newer entry
    (a bounced payout's return, a held order's release), so what is owed and not yet paid is
    pending + payable + in_payment, and what reached the partner is paid."""
    entries = list(entries)
    return totals_of(entries, entry_states(entries, due_through, lines))


def totals_of(entries: Iterable[Entry], states: dict[str, str]) -> dict[str, dict[str, int]]:
    """Sum entries by currency and the state `entry_states` gave each."""
    out: dict[str, dict[str, int]] = {}
    for e in entries:
        out.setdefault(e.currency, dict.fromkeys(STATES, 0))[states[e.entry_id]] += e.amount_minor
    return out
