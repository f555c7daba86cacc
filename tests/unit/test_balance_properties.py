"""Random histories of orders, refunds, holds, settlements (with carried balances below the minimum),
approvals, payments and bounced payouts, played through the domain rules alone: whatever happened,
each minor unit a partner is owed is shown once, and what is shown as payable is what the next
settlement run pays.

"What the next run pays" is computed with the settlement's own line rule (`domain.settlement.
settle_line` over `totals_by_partner`), on the model's entries, not with the state derivation under
test; paid, in payment and returned are computed independently from the lines and batches."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.commissions import CommissionLine, reversal_amounts
from chalicelib.domain.ledger import (HELD, HOLD, IN_PAYMENT, PAID, PAYABLE, PENDING, PAYOUT_RETURN, RELEASED, RETURNED,
                                      STATES, Entry, LineFate, commission_entries, entry_states, payout_return_entry_id,
                                      reversal_entry, totals_by_state)
from chalicelib.domain.periods import Calendar, next_period
from chalicelib.domain.settlement import settle_line, totals_by_partner
from chalicelib.services.holds import release_entries

CAL = Calendar("UTC", 5)
START = datetime(2026, 1, 3, 12, tzinfo=timezone.utc)
FIRST = "2026-01"
PARTNERS = ("P-A", "P-B", "P-C")
CURRENCIES = ("USD", "EUR")


@dataclass
class Order:
    order_id: str
    amount_minor: int
    currency: str
    entries: tuple[Entry, ...]
    held: bool
    refunded_minor: int = 0
    released: bool = False


@dataclass
class Model:
    min_payout: int
    now: datetime = START
    entries: dict[str, Entry] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    lines: dict[tuple[str, str, str], dict] = field(default_factory=dict)  # (period, partner, currency)
    carries: dict[tuple[str, str], int] = field(default_factory=dict)
    batches: dict[str, str] = field(default_factory=dict)
    settled_through: str | None = None

    # ---- what happens ------------------------------------------------------------------------
    def order(self, who: int, currency: str, amount: int, holding_days: int, held: bool) -> None:
        oid = f"o{len(self.orders)}"
        chain = PARTNERS[who:]
        lines = [CommissionLine(level, pid, "base", rate, amount * rate // 10_000)
                 for level, (pid, rate) in enumerate(zip(chain, (1000, 500, 200)), start=1)]
        lines = [ln for ln in lines if ln.amount_minor > 0]
        period = CAL.landing_period(self.now, self.now)
        es = commission_entries(oid, currency, self.now, 1, holding_days, lines, CAL, period)
        if held:
            es = [replace(e, settles_in=HOLD) for e in es]
        self.orders.append(Order(oid, amount, currency, tuple(es), held))
        self.entries.update({e.entry_id: e for e in es})

    def refund(self, index: int, share: float) -> None:
        if not self.orders:
            return
        o = self.orders[index % len(self.orders)]
        amount = int((o.amount_minor - o.refunded_minor) * share)
        if amount <= 0:
            return
        period = CAL.landing_period(self.now, self.now)
        rid = f"r{sum(1 for e in self.entries.values() if e.reverses)}"
        for e, a in zip(o.entries, reversal_amounts([e.amount_minor for e in o.entries], o.amount_minor,
                                                    o.refunded_minor, amount)):
            if a > 0:
                r = reversal_entry(e, rid, a, self.now, CAL, period)
                self.entries[r.entry_id] = r
        o.refunded_minor += amount

    def release(self, index: int) -> None:
        held = [o for o in self.orders if o.held and not o.released]
        if not held:
            return
        o = held[index % len(held)]
        view = SimpleNamespace(entries=o.entries, amount_minor=o.amount_minor, refunded_minor=o.refunded_minor)
        rel = release_entries(view, CAL, "reviewer", self.now)
        self.entries.update({e.entry_id: e for e in rel})
        # As the store does: the order now settles where its release entries do (later refunds
        # reverse the originals, settling normally).
        settles = rel[0].settles_in if rel else CAL.period_of(self.now)
        o.entries = tuple(replace(e, settles_in=settles) for e in o.entries)
        o.released = True

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)

    def settle(self) -> dict[tuple[str, str], int]:
        """Settle every period past its lock, in order; returns per (partner, currency) what the
        run paid plus the balance it carried forward."""
        p = next_period(self.settled_through) if self.settled_through else FIRST
        touched: dict[tuple[str, str], int] = {}
        while CAL.closeable(p, self.now):
            settling = sorted((e for e in self.entries.values() if e.settles_in == p),
                              key=lambda e: (e.partner_id, e.entry_id))
            for pid, acc in totals_by_partner(settling):
                for cur, t in acc.items():
                    line = settle_line(p, pid, cur, t, self.carries.get((pid, cur), 0), self.min_payout)
                    self.carries[(pid, cur)] = line.carried_out_minor
                    self.lines[(p, pid, cur)] = {"payout": line.payout_minor, "returned": False}
                    touched[(pid, cur)] = touched.get((pid, cur), 0) + line.payout_minor
            self.batches[p] = "draft"
            self.settled_through = p
            p = next_period(p)
        return {k: v + self.carries[k] for k, v in touched.items()}

    def finance(self, index: int, to: str) -> None:
        frm = {"approved": "draft", "paid": "approved"}[to]
        candidates = sorted(p for p, s in self.batches.items() if s == frm)
        if candidates:
            self.batches[candidates[index % len(candidates)]] = to

    def bounce(self, index: int) -> None:
        """A payout of an approved or paid batch bounced, and a second person confirmed it."""
        paying = sorted(k for k, ln in self.lines.items() if ln["payout"] > 0 and not ln["returned"]
                        and self.batches[k[0]] in ("approved", "paid"))
        if not paying:
            return
        period, pid, cur = paying[index % len(paying)]
        self.lines[(period, pid, cur)]["returned"] = True
        landing = CAL.period_of(self.now)
        while self.settled_through and landing <= self.settled_through:
            landing = next_period(landing)
        eid = payout_return_entry_id(f"{period}#{pid}#{cur}")
        self.entries[eid] = Entry(eid, PAYOUT_RETURN, pid, f"{period}#{pid}#{cur}", 0,
                                  self.lines[(period, pid, cur)]["payout"], cur, 1, 0, self.now, self.now,
                                  period=landing, settles_in=landing)

    # ---- what a partner is shown -------------------------------------------------------------
    def shown(self, pid: str) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
        mine = [e for e in self.entries.values() if e.partner_id == pid]
        fates = [LineFate(p, cur, ln["payout"], self.batches[p], ln["returned"])
                 for (p, who, cur), ln in self.lines.items() if who == pid]
        due = CAL.last_closeable(self.now)
        return entry_states(mine, due, fates), totals_by_state(mine, due, fates)


ORDER = st.tuples(st.just("order"), st.integers(0, 2), st.sampled_from(CURRENCIES), st.integers(1, 200_000),
                  st.sampled_from([0, 10, 40]), st.sampled_from([False, False, False, True]))
REFUND = st.tuples(st.just("refund"), st.integers(0, 50), st.sampled_from([0.1, 0.5, 1.0]))
FINANCE = st.one_of(st.tuples(st.just("approve"), st.integers(0, 5)), st.tuples(st.just("pay"), st.integers(0, 5)),
                    st.tuples(st.just("bounce"), st.integers(0, 50)), st.tuples(st.just("release"), st.integers(0, 50)))
# A history is a run of months: some orders and refunds, days passing (mostly into the next
# period's lock), a settlement run (or not), then finance's approvals, payments and bounces, and
# reviews releasing held orders, in any order.
MONTH = st.tuples(st.lists(st.one_of(ORDER, ORDER, REFUND), max_size=6),
                  st.tuples(st.just("advance"), st.integers(5, 40)),
                  st.lists(st.sampled_from([("settle",)]), max_size=1),
                  st.lists(FINANCE, max_size=4)).map(lambda m: [*m[0], m[1], *m[2], *m[3]])
steps = st.lists(MONTH, min_size=1, max_size=8).map(lambda months: [s for m in months for s in m])


def check(m: Model) -> None:
    for pid in PARTNERS:
        states, totals = m.shown(pid)
        ledger = defaultdict(int)
        for e in m.entries.values():
            if e.partner_id == pid:
                ledger[e.currency] += e.amount_minor
        for cur in set(ledger) | set(totals):
            t = totals.get(cur, dict.fromkeys(STATES, 0))
            assert set(t) == set(STATES)
            # Every minor unit once: the states add up to the ledger.
            assert sum(t.values()) == ledger[cur], (pid, cur, t, ledger[cur])
            lines = {k: ln for k, ln in m.lines.items() if k[1] == pid and k[2] == cur}
            assert t[PAID] == sum(ln["payout"] for k, ln in lines.items()
                                  if m.batches[k[0]] == "paid" and not ln["returned"])
            assert t[IN_PAYMENT] == sum(ln["payout"] for k, ln in lines.items()
                                        if m.batches[k[0]] != "paid" and not ln["returned"])
            assert t[RETURNED] == sum(ln["payout"] for ln in lines.values() if ln["returned"])
            hold = [e for e in m.entries.values() if e.partner_id == pid and e.currency == cur and e.settles_in == HOLD]
            released = {o.order_id for o in m.orders if o.released}
            assert t[RELEASED] == sum(e.amount_minor for e in hold if e.order_id in released)
            assert t[HELD] == sum(e.amount_minor for e in hold if e.order_id not in released)
            # Owed and not in a payout yet = the carried balance + what no line has taken.
            unsettled = sum(e.amount_minor for e in m.entries.values() if e.partner_id == pid and e.currency == cur
                            and e.settles_in != HOLD and (e.settles_in, pid, cur) not in m.lines)
            assert t[PAYABLE] + t[PENDING] == m.carries.get((pid, cur), 0) + unsettled


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([0, 1_000, 5_000, 50_000]), steps)
def test_each_unit_owed_is_shown_once_and_payable_is_what_the_next_settlement_pays(min_payout, history):
    m = Model(min_payout)
    for step in history:
        kind, *args = step
        if kind == "settle":
            shown = {(pid, cur): t[PAYABLE] for pid in PARTNERS for cur, t in m.shown(pid)[1].items()}
            paid_and_carried = m.settle()
            for key in set(shown) | set(paid_and_carried):
                expected = paid_and_carried.get(key, m.carries.get(key, 0))
                assert shown.get(key, 0) == expected, (key, shown.get(key), expected)
        elif kind == "order":
            m.order(*args)
        elif kind == "refund":
            m.refund(*args)
        elif kind == "release":
            m.release(*args)
        elif kind == "advance":
            m.advance(*args)
        elif kind in ("approve", "pay"):
            m.finance(args[0], "approved" if kind == "approve" else "paid")
        elif kind == "bounce":
            m.bounce(*args)
        check(m)
