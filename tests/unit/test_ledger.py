from dataclasses import replace
from datetime import datetime, timezone

from chalicelib.domain.commissions import CommissionLine
from chalicelib.domain.periods import Calendar
from chalicelib.domain.ledger import (IN_PAYMENT, PAID, PAYABLE, PENDING, RETURNED, REVERSED, LineFate,
                                      commission_entries, entry_states, reversal_entry, totals_by_state)

T = datetime(2026, 3, 1, tzinfo=timezone.utc)
CAL = Calendar("UTC", 5)


def entries():
    return commission_entries("o1", "USD", T, 1, 30, [CommissionLine(1, "P-A", "base", 1000, 1000),
                                                      CommissionLine(2, "P-B", "base", 500, 500)],
                              CAL, "2026-03")


def test_an_entry_is_pending_until_its_settlement_period_locks_then_payable():
    es = entries()  # ordered 1 March, payable 31 March: settles in March, which locks 5 April
    assert set(entry_states(es, "2026-02").values()) == {PENDING}
    assert set(entry_states(es, "2026-03").values()) == {PAYABLE}


def test_a_fully_reversed_commission_is_reversed_with_its_reversals_and_a_partial_one_counts_its_net():
    a, b = entries()
    full = reversal_entry(a, "r1", 1000, T, CAL, "2026-03")
    part = reversal_entry(b, "r1", 200, T, CAL, "2026-03")
    states = entry_states([a, b, full, part], "2026-02")
    assert states[a.entry_id] == states[full.entry_id] == REVERSED
    assert states[b.entry_id] == states[part.entry_id] == PENDING
    totals = totals_by_state([a, b, full, part], "2026-02")["USD"]
    assert totals[PENDING] == 300 and sum(totals.values()) == 300


def test_entries_take_the_fate_of_the_payout_their_line_went_into():
    a, _ = entries()
    april = commission_entries("o2", "USD", datetime(2026, 4, 1, tzinfo=timezone.utc), 1, 0,
                               [CommissionLine(1, "P-A", "base", 1000, 4000)], CAL, "2026-04")[0]
    carried = LineFate("2026-03", "USD", 0, "paid")  # below the minimum: carried into April's line
    assert entry_states([a, april], "2026-04", [carried]) == {a.entry_id: PAYABLE, april.entry_id: PAYABLE}
    paying = LineFate("2026-04", "USD", 5000, "approved")
    assert set(entry_states([a, april], "2026-04", [carried, paying]).values()) == {IN_PAYMENT}
    assert set(entry_states([a, april], "2026-04", [carried, replace(paying, batch_status="paid")]).values()) == {PAID}
    bounced = replace(paying, batch_status="paid", returned=True)
    assert set(entry_states([a, april], "2026-04", [carried, bounced]).values()) == {RETURNED}


def test_reversal_entries_point_at_what_they_reverse_and_are_negative():
    a, _ = entries()
    r = reversal_entry(a, "r9", 250, T, CAL, "2026-03")
    assert (r.reverses, r.amount_minor, r.entry_id) == (a.entry_id, -250, "o1#R#r9#L1")


def test_entries_settle_in_their_period_or_the_first_one_whose_lock_follows_their_holding_period():
    a, _ = entries()  # ordered 1 March, payable 31 March; March locks 5 April
    assert (a.period, a.settles_in) == ("2026-03", "2026-03")
    late = commission_entries("o2", "USD", datetime(2026, 3, 20, tzinfo=timezone.utc), 1, 30,
                              [CommissionLine(1, "P-A", "base", 1000, 1000)], CAL, "2026-03")[0]
    assert (late.period, late.settles_in) == ("2026-03", "2026-04")  # payable 19 April, after 5 April


def test_a_reversal_never_settles_before_the_commission_it_reverses():
    late = commission_entries("o2", "USD", datetime(2026, 3, 20, tzinfo=timezone.utc), 1, 30,
                              [CommissionLine(1, "P-A", "base", 1000, 1000)], CAL, "2026-03")[0]
    r = reversal_entry(late, "r1", 100, datetime(2026, 3, 25, tzinfo=timezone.utc), CAL, "2026-03")
    assert (r.period, r.settles_in) == ("2026-03", "2026-04")
