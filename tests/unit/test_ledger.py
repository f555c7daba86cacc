from datetime import datetime, timedelta, timezone

from chalicelib.domain.commissions import CommissionLine
from chalicelib.domain.ledger import (PAYABLE, PENDING, REVERSED, commission_entries, entry_states, reversal_entry,
                                      totals_by_state)

T = datetime(2026, 3, 1, tzinfo=timezone.utc)


def entries():
    return commission_entries("o1", "USD", T, 1, 30, [CommissionLine(1, "P-A", "base", 1000, 1000),
                                                      CommissionLine(2, "P-B", "base", 500, 500)])


def test_a_commission_is_pending_until_its_holding_period_ends_then_payable():
    es = entries()
    assert set(entry_states(es, T + timedelta(days=29)).values()) == {PENDING}
    assert set(entry_states(es, T + timedelta(days=30)).values()) == {PAYABLE}


def test_a_fully_reversed_commission_is_reversed_and_a_partial_one_counts_its_net():
    a, b = entries()
    full = reversal_entry(a, "r1", 1000, T)
    part = reversal_entry(b, "r1", 200, T)
    states = entry_states([a, b, full, part], T)
    assert states[a.entry_id] == REVERSED and states[b.entry_id] == PENDING
    assert totals_by_state([a, b, full, part], T)["USD"] == {"pending": 300, "payable": 0, "paid": 0,
                                                             "reversed": 1200}


def test_reversal_entries_point_at_what_they_reverse_and_are_negative():
    a, _ = entries()
    r = reversal_entry(a, "r9", 250, T)
    assert (r.reverses, r.amount_minor, r.entry_id) == (a.entry_id, -250, "o1#R#r9#L1")
