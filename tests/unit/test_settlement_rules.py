"""Settlement lines, carried balances, reconciliation, exports: pure rules, no AWS."""
from datetime import datetime, timezone

from hypothesis import given, strategies as st

from chalicelib.domain.ledger import BONUS, COMMISSION, PAYOUT_RETURN, REVERSAL, Entry
from chalicelib.domain.periods import Calendar
from chalicelib.domain.settlement import Totals, control_totals, reconcile, settle_line, totals_by_partner
from chalicelib.exports import safe_cell

T = datetime(2026, 3, 1, tzinfo=timezone.utc)


def entry(pid, kind, amount, cur="USD", n=[0]):
    n[0] += 1
    return Entry(f"e{n[0]}", kind, pid, "o", 1, amount, cur, 1, 0, T, T)


def totals(*amounts_by_kind):
    t = Totals()
    for kind, amount in amounts_by_kind:
        t.add(entry("P", kind, amount))
    return t


def test_a_balance_that_reaches_the_minimum_is_paid_in_full():
    line = settle_line("2026-03", "P", "USD", totals((COMMISSION, 4_000), (BONUS, 2_000)), 0, 5_000)
    assert (line.payout_minor, line.carried_out_minor) == (6_000, 0)


def test_a_balance_below_the_minimum_carries_forward_and_is_netted_next_time():
    first = settle_line("2026-03", "P", "USD", totals((COMMISSION, 3_000)), 0, 5_000)
    assert (first.payout_minor, first.carried_out_minor) == (0, 3_000)
    second = settle_line("2026-04", "P", "USD", totals((COMMISSION, 2_500)), first.carried_out_minor, 5_000)
    assert (second.payout_minor, second.carried_out_minor) == (5_500, 0)


def test_a_negative_balance_is_never_paid_and_carries_forward():
    line = settle_line("2026-04", "P", "USD", totals((REVERSAL, -1_200), (COMMISSION, 200)), 0, 5_000)
    assert (line.payout_minor, line.carried_out_minor, line.clawbacks_minor) == (0, -1_000, -1_200)


def test_a_zero_minimum_still_never_pays_zero_or_less():
    assert settle_line("2026-04", "P", "USD", totals((REVERSAL, -1)), 0, 0).payout_minor == 0


def test_returned_payouts_count_as_adjustments():
    line = settle_line("2026-05", "P", "USD", totals((PAYOUT_RETURN, 7_000)), 0, 5_000)
    assert (line.adjustments_minor, line.payout_minor) == (7_000, 7_000)


def test_entries_are_grouped_one_partner_at_a_time_by_currency():
    es = [entry("A", COMMISSION, 1), entry("A", COMMISSION, 2, "EUR"), entry("B", BONUS, 5)]
    grouped = [(pid, {c: t.sum_minor for c, t in acc.items()}) for pid, acc in totals_by_partner(es)]
    assert grouped == [("A", {"USD": 1, "EUR": 2}), ("B", {"USD": 5})]


@given(st.lists(st.tuples(st.sampled_from([COMMISSION, BONUS, REVERSAL, PAYOUT_RETURN]),
                          st.integers(-10**7, 10**7), st.integers(-10**6, 10**6)), max_size=30),
       st.integers(0, 10**6))
def test_every_line_balances_and_reconciles_and_never_pays_a_negative(rows, min_payout):
    lines, ledger = [], 0
    for i, (kind, amount, carried) in enumerate(rows):
        line = settle_line("2026-03", f"P{i}", "USD", totals((kind, amount)), carried, min_payout)
        assert line.payout_minor >= 0
        assert line.entries_minor + line.carried_in_minor == line.payout_minor + line.carried_out_minor
        lines.append(line)
        ledger += amount
    rec = reconcile(control_totals(lines), {"USD": ledger} if rows else {}, {"USD": len(rows)} if rows else {})
    assert rec.ok, rec.problems


def test_reconciliation_fails_loudly_when_the_ledger_and_the_lines_disagree():
    line = settle_line("2026-03", "P", "USD", totals((COMMISSION, 6_000)), 0, 5_000)
    rec = reconcile(control_totals([line]), {"USD": 6_001}, {"USD": 1})
    assert not rec.ok and "USD: ledger entries sum to 6001" in rec.problems[0]


def test_spreadsheet_formulas_are_escaped_but_numbers_stay_numbers():
    assert safe_cell("=HYPERLINK(\"http://evil\")") == "'=HYPERLINK(\"http://evil\")"
    assert [safe_cell(x) for x in ("+1+1", "-cmd", "@SUM(A1)", "\tx")] == ["'+1+1", "'-cmd", "'@SUM(A1)", "'\tx"]
    assert [safe_cell(x) for x in (-1200, "-12.50", "Alice", None)] == ["-1200", "-12.50", "Alice", ""]


def test_periods_follow_the_program_time_zone_and_lock_after_the_configured_days():
    cal = Calendar("Asia/Shanghai", 5)
    # 1 Nov 00:30 in Shanghai is still 31 Oct in UTC
    assert cal.period_of(datetime(2026, 10, 31, 16, 30, tzinfo=timezone.utc)) == "2026-11"
    assert cal.lock_at("2026-10").isoformat() == "2026-11-05T16:00:00+00:00"
    late = datetime(2026, 11, 6, tzinfo=timezone.utc)
    assert cal.landing_period(datetime(2026, 10, 20, tzinfo=timezone.utc), late) == "2026-11"
    assert cal.landing_period(datetime(2026, 10, 20, tzinfo=timezone.utc), datetime(2026, 11, 3, tzinfo=timezone.utc)) == "2026-10"
