"""The reference model: what Upline should have done, recomputed from the plan and the tree with
plain Decimal arithmetic and dictionaries. It imports nothing from chalicelib on purpose, so a bug
shared by the production rules and this model would have to be written twice.

Periods are calendar months in the test stage's time zone (UPLINE_PROGRAM_TZ in .chalice/config.json,
read here as plain JSON), locked LOCK_DAYS after they end; a period's settlement starts no sooner than
FENCE after its lock. A change of a partner's status or sponsor recorded at W takes effect at W + FENCE
(scheduled effectivity); an order is computed on the tree and statuses in effect when it is recorded.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

UTC = timezone.utc
_CONFIG = json.loads((Path(__file__).resolve().parents[2] / ".chalice" / "config.json").read_text())
ZONE = ZoneInfo({**_CONFIG.get("environment_variables", {}),
                 **_CONFIG["stages"]["test"].get("environment_variables", {})}.get("UPLINE_PROGRAM_TZ", "UTC"))
LOCK_DAYS = 5
WINDOW = timedelta(days=30)
SKEW = timedelta(minutes=5)
# The effectivity fence (UPLINE_FENCE_SECONDS; the test stage keeps the default of five minutes).
FENCE = timedelta(seconds=int(os.environ.get("UPLINE_FENCE_SECONDS", "300")))


class Refused(Exception):
    """The request is refused with this HTTP status (and writes nothing)."""

    def __init__(self, status: int, code: str):
        super().__init__(f"{status} {code}")
        self.status, self.code = status, code


# ---- periods ------------------------------------------------------------------------------------

def period_of(at: datetime) -> str:
    at = at.astimezone(ZONE)
    return f"{at.year:04d}-{at.month:02d}"


def next_p(p: str) -> str:
    y, m = int(p[:4]), int(p[5:])
    return f"{y + (m == 12):04d}-{m % 12 + 1:02d}"


def prev_p(p: str) -> str:
    y, m = int(p[:4]), int(p[5:])
    return f"{y - (m == 1):04d}-{(m - 2) % 12 + 1:02d}"


def lock_at(p: str) -> datetime:
    n = next_p(p)
    return datetime(int(n[:4]), int(n[5:]), 1, tzinfo=ZONE).astimezone(UTC) + timedelta(days=LOCK_DAYS)


def end_of(p: str) -> datetime:
    n = next_p(p)
    return datetime(int(n[:4]), int(n[5:]), 1, tzinfo=ZONE).astimezone(UTC)


def settles_in(p: str, payable_at: datetime) -> str:
    while lock_at(p) < payable_at:
        p = next_p(p)
    return p


# ---- money ----------------------------------------------------------------------------------------

def half_even(x: Decimal) -> int:
    return int(x.to_integral_value(rounding=ROUND_HALF_EVEN))


def commissions(amount: int, chain: list[str], levels: list[int], cap_bps: int | None) -> list[tuple[int, str, int, int]]:
    """[(level, partner, bps, amount)] for the earners, cap split by largest remainder."""
    earners = chain[:len(levels)]
    exact = [Decimal(amount) * levels[i] / 10000 for i in range(len(earners))]
    amounts = [half_even(x) for x in exact]
    if cap_bps is not None:
        cap = int((Decimal(amount) * cap_bps / 10000).to_integral_value(rounding=ROUND_FLOOR))
        if sum(amounts) > cap:
            total = sum(exact)
            shares = [Decimal(cap) * x / total for x in exact] if total else [Decimal(0)] * len(exact)
            amounts = [int(s.to_integral_value(rounding=ROUND_FLOOR)) for s in shares]
            left = cap - sum(amounts)
            by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - amounts[i]), i))
            for i in by_remainder[:left]:
                amounts[i] += 1
    return [(i + 1, earners[i], levels[i], amounts[i]) for i in range(len(earners)) if amounts[i] > 0]


def cumulative(credited: int, order: int, refunded: int) -> int:
    if refunded >= order:
        return credited
    return half_even(Decimal(credited) * refunded / order)


# ---- the model ------------------------------------------------------------------------------------

@dataclass
class RefPlan:
    version: int
    effective_from: datetime
    levels: list[int]
    cap_bps: int | None
    holding_days: int
    min_payout: int


@dataclass
class RefEntry:
    entry_id: str
    partner: str
    kind: str
    amount: int
    currency: str
    period: str
    settles_in: str
    order_id: str
    reverses: str | None = None


@dataclass
class RefOrder:
    order_id: str
    fingerprint: tuple
    amount: int
    currency: str
    ordered_at: datetime
    period: str
    entries: list[RefEntry]
    attributed_to: str | None
    plan_version: int
    cap_bps: int | None
    refunded: int = 0


@dataclass
class Reference:
    plans: list[RefPlan] = field(default_factory=list)
    # Each partner's sponsor and status as schedules: [(effective from, value)], in effect order.
    parent: dict[str, list[tuple[datetime | None, str | None]]] = field(default_factory=dict)
    status: dict[str, list[tuple[datetime | None, str]]] = field(default_factory=dict)
    clicks: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    bindings: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    orders: dict[str, RefOrder] = field(default_factory=dict)
    refunds: dict[tuple[str, str], tuple] = field(default_factory=dict)
    entries: dict[str, RefEntry] = field(default_factory=dict)
    closing: set[str] = field(default_factory=set)
    settled_through: str | None = None
    carries: dict[tuple[str, str], int] = field(default_factory=dict)
    lines: dict[tuple[str, str, str], dict[str, int]] = field(default_factory=dict)
    batches: dict[str, str] = field(default_factory=dict)
    failed: set[tuple[str, str, str]] = field(default_factory=set)
    reported: set[tuple[str, str, str]] = field(default_factory=set)

    # ---- program ----
    def publish(self, effective_from: datetime, levels: list[int], cap_bps: int | None, holding_days: int,
                min_payout: int) -> int:
        v = len(self.plans) + 1
        self.plans.append(RefPlan(v, effective_from, levels, cap_bps, holding_days, min_payout))
        return v

    def plan_at(self, at: datetime) -> RefPlan:
        live = [p for p in self.plans if p.effective_from <= at]
        if not live:
            raise Refused(422, "no_plan_in_force")
        return max(live, key=lambda p: (p.effective_from, p.version))

    def enrol(self, pid: str, sponsor: str | None) -> None:
        if pid not in self.parent:  # in effect from the start (an order dated earlier finds it enrolled)
            self.parent[pid] = [(None, sponsor)]
            self.status[pid] = [(None, "active")]

    @staticmethod
    def _at(schedule: list, at: datetime):
        value = schedule[0][1]
        for since, v in schedule[1:]:
            if since <= at:
                value = v
        return value

    def sponsor_at(self, pid: str, at: datetime) -> str | None:
        return self._at(self.parent[pid], at)

    def status_at(self, pid: str, at: datetime) -> str:
        return self._at(self.status[pid], at)

    def ancestors(self, pid: str, at: datetime) -> list[str]:
        out, p = [], self.sponsor_at(pid, at)
        while p is not None:
            out.append(p)
            p = self.sponsor_at(p, at)
        return out

    def move(self, pid: str, sponsor: str, now: datetime) -> None:
        """Recorded now, in effect a fence later."""
        at = now + FENCE
        if sponsor == pid or pid in self.ancestors(sponsor, at):
            raise Refused(409, "cycle")
        self.parent[pid].append((at, sponsor))

    def set_status(self, pid: str, status: str, now: datetime) -> None:
        self.status[pid].append((now + FENCE, status))

    def click(self, click_id: str, pid: str, at: datetime) -> None:
        self.clicks[click_id] = (pid, at)

    # ---- orders and refunds ----
    def landing(self, at: datetime, now: datetime) -> str:
        own = period_of(at)
        p = own if now < lock_at(own) else max(own, period_of(now))
        while p in self.closing:
            p = next_p(p)
        return p

    def order(self, order_id: str, customer: str, amount: int, currency: str, ordered_at: datetime,
              click_id: str | None, code_partner: str | None, now: datetime) -> tuple[bool, RefOrder]:
        """(created, order)."""
        fp = (customer, amount, currency, ordered_at, click_id, code_partner)
        if order_id in self.orders:
            if self.orders[order_id].fingerprint != fp:
                raise Refused(409, "idempotency_conflict")
            return False, self.orders[order_id]
        plan = self.plan_at(ordered_at)
        binding = self.bindings.get(customer)
        live = binding is not None and ordered_at < binding[1]
        partner, start = None, None
        click = self.clicks.get(click_id) if click_id else None
        if click and click[1] - SKEW <= ordered_at < click[1] + WINDOW:
            partner, start = click
        elif code_partner is not None:
            partner, start = code_partner, ordered_at
        elif live:
            partner = binding[0]
        period = self.landing(ordered_at, now)
        entries = []
        if partner is not None:
            if start is not None and not live:
                self.bindings[customer] = (partner, start + WINDOW)
            # The whole chain: how many ancestors a partner stores is a storage bound, not a rule.
            # The tree and statuses in effect when the order is recorded (now).
            chain = [p for p in [partner, *self.ancestors(partner, now)] if self.status_at(p, now) == "active"]
            due = settles_in(period, ordered_at + timedelta(days=plan.holding_days))
            for level, pid, _, amt in commissions(amount, chain, plan.levels, plan.cap_bps):
                entries.append(RefEntry(f"{order_id}#L{level}", pid, "commission", amt, currency, period, due,
                                        order_id))
        o = RefOrder(order_id, fp, amount, currency, ordered_at, period, entries, partner, plan.version,
                     plan.cap_bps)
        self.orders[order_id] = o
        for e in entries:
            self.entries[e.entry_id] = e
        return True, o

    def refund(self, order_id: str, refund_id: str, amount: int, refunded_at: datetime,
               now: datetime) -> tuple[bool, list[RefEntry]]:
        fp = (order_id, amount, refunded_at)
        if (order_id, refund_id) in self.refunds:
            stored_fp, reversals = self.refunds[(order_id, refund_id)]
            if stored_fp != fp:
                raise Refused(409, "idempotency_conflict")
            return False, reversals
        o = self.orders.get(order_id)
        if o is None:
            raise Refused(404, "unknown_order")
        if refunded_at < o.ordered_at - SKEW:
            raise Refused(422, "refund_before_order")
        if amount > o.amount - o.refunded:
            raise Refused(422, "refund_exceeds_order")
        after = o.refunded + amount
        period = self.landing(o.ordered_at, max(now, refunded_at))
        reversals = []
        for e in o.entries:
            back = cumulative(e.amount, o.amount, after) - cumulative(e.amount, o.amount, o.refunded)
            if back > 0:
                level = e.entry_id.rsplit("#L", 1)[1]
                reversals.append(RefEntry(f"{order_id}#R#{refund_id}#L{level}", e.partner, "reversal", -back,
                                          e.currency, period, max(settles_in(period, refunded_at), e.settles_in),
                                          order_id, reverses=e.entry_id))
        o.refunded = after
        self.refunds[(order_id, refund_id)] = (fp, reversals)
        for r in reversals:
            self.entries[r.entry_id] = r
        return True, reversals

    # ---- settlement ----
    def closeable_through(self, now: datetime) -> str:
        p = prev_p(period_of(now))
        while now < lock_at(p) + FENCE:
            p = prev_p(p)
        return p

    def run_daily(self, now: datetime) -> list[str]:
        if not self.plans:
            return []
        first = next_p(self.settled_through) if self.settled_through else \
            period_of(min(p.effective_from for p in self.plans))
        last, done, p = self.closeable_through(now), [], first
        while p <= last:
            self.close(p)
            done.append(p)
            p = next_p(p)
        return done

    def close(self, p: str) -> None:
        self.closing.add(p)
        plan = self.plan_at(end_of(p) - timedelta(microseconds=1))
        totals: dict[tuple[str, str], list[int]] = {}
        for e in self.entries.values():
            if e.settles_in == p:
                t = totals.setdefault((e.partner, e.currency), [0, 0])
                t[0] += e.amount
                t[1] += 1
        for (pid, cur), (total, count) in sorted(totals.items()):
            carried_in = self.carries.get((pid, cur), 0)
            available = carried_in + total
            payout = available if available >= max(plan.min_payout, 1) else 0
            self.carries[(pid, cur)] = available - payout
            self.lines[(p, pid, cur)] = {"entries_minor": total, "entry_count": count, "carried_in_minor": carried_in,
                                         "payout_minor": payout, "carried_out_minor": available - payout}
        self.batches[p] = "draft"
        self.settled_through = p

    def approve(self, p: str) -> None:
        if p not in self.batches:
            raise Refused(404, "unknown_batch")
        if self.batches[p] == "draft":
            self.batches[p] = "approved"
        elif self.batches[p] != "approved":
            raise Refused(409, "invalid_state")

    def mark_paid(self, p: str) -> None:
        if p not in self.batches:
            raise Refused(404, "unknown_batch")
        if self.batches[p] == "approved":
            self.batches[p] = "paid"
        elif self.batches[p] != "paid":
            raise Refused(409, "invalid_state")

    def _bounceable(self, p: str, pid: str, cur: str) -> dict:
        if p not in self.batches:
            raise Refused(404, "unknown_batch")
        if self.batches[p] not in ("approved", "paid"):
            raise Refused(409, "invalid_state")
        line = self.lines.get((p, pid, cur))
        if line is None or line["payout_minor"] <= 0:
            raise Refused(404, "unknown_payout")
        return line

    def report_bounce(self, p: str, pid: str, cur: str) -> None:
        self._bounceable(p, pid, cur)
        if (p, pid, cur) not in self.failed:
            self.reported.add((p, pid, cur))

    def confirm_bounce(self, p: str, pid: str, cur: str, now: datetime, by_reporter: bool = False) -> None:
        line = self._bounceable(p, pid, cur)
        if (p, pid, cur) not in self.reported and (p, pid, cur) not in self.failed:
            raise Refused(409, "bounce_not_reported")
        if by_reporter:
            raise Refused(403, "maker_checker")
        if (p, pid, cur) in self.failed:
            return
        self.reported.discard((p, pid, cur))
        self.failed.add((p, pid, cur))
        landing = period_of(now)
        while landing in self.closing:
            landing = next_p(landing)
        eid = f"return#{p}#{pid}#{cur}"
        self.entries[eid] = RefEntry(eid, pid, "payout_return", line["payout_minor"], cur, landing, landing, eid)
