from datetime import datetime, timedelta, timezone

from chalicelib.domain.commissions import CommissionLine
from chalicelib.domain.periods import Calendar
from chalicelib.domain.ledger import (PAYABLE, PENDING, REVERSED, commission_entries, entry_states, reversal_entry,
                                      totals_by_state)

T = datetime(2026, 3, 1, tzinfo=timezone.utc)
CAL = Calendar("UTC", 5)


def entries():
    return commission_entries("o1", "USD", T, 1, 30, [CommissionLine(1, "P-A", "base", 1000, 1000),
                                                      CommissionLine(2, "P-B", "base", 500, 500)],
                              CAL, "2026-03")


def test_a_commission_is_pending_until_its_holding_period_ends_then_payable():
    es = entries()
    assert set(entry_states(es, T + timedelta(days=29)).values()) == {PENDING}
    assert set(entry_states(es, T + timedelta(days=30)).values()) == {PAYABLE}


def test_a_fully_reversed_commission_is_reversed_and_a_partial_one_counts_its_net():
    a, b = entries()
    full = reversal_entry(a, "r1", 1000, T, CAL, "2026-03")
    part = reversal_entry(b, "r1", 200, T, CAL, "2026-03")
    states = entry_states([a, b, full, part], T)
    assert states[a.entry_id] == REVERSED and states[b.entry_id] == PENDING
    assert totals_by_state([a, b, full, part], T)["USD"] == {"pending": 300, "payable": 0, "paid": 0,
                                                             "reversed": 1200}


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
