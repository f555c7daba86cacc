"""Where a payout is computed: one line per partner and currency for a period's settlement.

A line adds up the ledger entries that settle in the period, adds the balance carried in from the
partner's last settlement, and pays the total if it reaches the plan's minimum payout; anything
less, including a negative balance left by clawbacks, is carried forward. Never a negative payout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .ledger import BONUS, COMMISSION, PAYOUT_RETURN, REVERSAL, Entry

DRAFT, APPROVED, PAID, FAILED = "draft", "approved", "paid", "failed"
BUILDING, RECONCILIATION_FAILED = "building", "reconciliation_failed"
CARRIED = "carried"  # a line that pays nothing this time


def shard_of(partner_id: str, shards: int) -> int:
    """A stable shard for a partner, the same in every process (unlike hash())."""
    return int(hashlib.sha256(partner_id.encode()).hexdigest()[:8], 16) % shards


@dataclass(frozen=True)
class Posting:
    """What a payout line needs of a ledger entry."""

    partner_id: str
    currency: str
    kind: str
    amount_minor: int


@dataclass
class Totals:
    """What one partner's entries in one currency add up to, by kind."""

    commissions_minor: int = 0
    bonuses_minor: int = 0
    clawbacks_minor: int = 0  # reversals: negative
    adjustments_minor: int = 0  # returned failed payouts
    entry_count: int = 0

    def add(self, e: Entry | Posting) -> None:
        if e.kind == COMMISSION:
            self.commissions_minor += e.amount_minor
        elif e.kind == BONUS:
            self.bonuses_minor += e.amount_minor
        elif e.kind == REVERSAL:
            self.clawbacks_minor += e.amount_minor
        elif e.kind == PAYOUT_RETURN:
            self.adjustments_minor += e.amount_minor
        else:  # pragma: no cover - a new kind must be placed in a column first
            raise ValueError(f"unknown entry kind {e.kind!r}")
        self.entry_count += 1

    @property
    def sum_minor(self) -> int:
        return self.commissions_minor + self.bonuses_minor + self.clawbacks_minor + self.adjustments_minor


@dataclass(frozen=True)
class Line:
    period: str
    partner_id: str
    currency: str
    commissions_minor: int
    bonuses_minor: int
    clawbacks_minor: int
    adjustments_minor: int
    entry_count: int
    carried_in_minor: int
    payout_minor: int
    carried_out_minor: int

    @property
    def entries_minor(self) -> int:
        return self.commissions_minor + self.bonuses_minor + self.clawbacks_minor + self.adjustments_minor

    @property
    def payout_id(self) -> str:
        return payout_id(self.period, self.partner_id, self.currency)


def payout_id(period: str, partner_id: str, currency: str) -> str:
    return f"{period}#{partner_id}#{currency}"


def settle_line(
    period: str, partner_id: str, currency: str, totals: Totals, carried_in_minor: int, min_payout_minor: int
) -> Line:
    available = carried_in_minor + totals.sum_minor
    payout = available if available >= max(min_payout_minor, 1) else 0
    return Line(
        period,
        partner_id,
        currency,
        totals.commissions_minor,
        totals.bonuses_minor,
        totals.clawbacks_minor,
        totals.adjustments_minor,
        totals.entry_count,
        carried_in_minor,
        payout,
        available - payout,
    )


def totals_by_partner(entries: Iterable[Entry | Posting]) -> Iterator[tuple[str, dict[str, Totals]]]:
    """Group a stream of entries ordered by partner into (partner, currency -> totals), holding one
    partner at a time, so settling a period never holds all its entries in memory."""
    current: str | None = None
    acc: dict[str, Totals] = {}
    for e in entries:
        if e.partner_id != current:
            if current is not None:
                yield current, acc
            current, acc = e.partner_id, {}
        acc.setdefault(e.currency, Totals()).add(e)
    if current is not None:
        yield current, acc


@dataclass
class Control:
    """Control totals per currency: what finance checks the exports against."""

    lines: int = 0
    payouts: int = 0
    entries: int = 0
    entries_minor: int = 0
    carried_in_minor: int = 0
    payout_minor: int = 0
    carried_out_minor: int = 0

    def add(self, line: Line) -> None:
        self.lines += 1
        self.payouts += line.payout_minor > 0
        self.entries += line.entry_count
        self.entries_minor += line.entries_minor
        self.carried_in_minor += line.carried_in_minor
        self.payout_minor += line.payout_minor
        self.carried_out_minor += line.carried_out_minor

    @property
    def balanced(self) -> bool:
        return self.entries_minor + self.carried_in_minor == self.payout_minor + self.carried_out_minor

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def control_totals(lines: Iterable[Line]) -> dict[str, Control]:
    out: dict[str, Control] = {}
    for line in lines:
        out.setdefault(line.currency, Control()).add(line)
    return dict(sorted(out.items()))


@dataclass
class Reconciliation:
    ok: bool
    problems: list[str] = field(default_factory=list)


def reconcile(
    control: dict[str, Control], ledger_minor: dict[str, int], ledger_count: dict[str, int]
) -> Reconciliation:
    """Per currency: the ledger entries that settle in the period, summed independently of the
    lines, plus the balances carried in, equal the payouts plus the balances carried out."""
    problems = []
    for currency in sorted(set(control) | set(ledger_minor)):
        c = control.get(currency, Control())
        if not c.balanced:
            problems.append(
                f"{currency}: lines do not balance: entries {c.entries_minor} + carried in "
                f"{c.carried_in_minor} != payouts {c.payout_minor} + carried out {c.carried_out_minor}"
            )
        if ledger_minor.get(currency, 0) != c.entries_minor:
            problems.append(
                f"{currency}: ledger entries sum to {ledger_minor.get(currency, 0)} but the lines "
                f"account for {c.entries_minor}"
            )
        if ledger_count.get(currency, 0) != c.entries:
            problems.append(
                f"{currency}: {ledger_count.get(currency, 0)} ledger entries but the lines count {c.entries}"
            )
        if ledger_minor.get(currency, 0) + c.carried_in_minor != c.payout_minor + c.carried_out_minor:
            problems.append(f"{currency}: ledger + carried in != payouts + carried out")
    return Reconciliation(not problems, problems)
