"""Finance's review rules: why a period waits, a batch's totals, the comparison with the previous
period and its flags, and the payout list's filter, sort, paging and cursors."""
from datetime import datetime, timezone

import pytest

from chalicelib.domain import finance_review as fr
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.settlement import Line

UTC = timezone.utc
FROM = datetime(2026, 9, 6, 0, 5, tzinfo=UTC)


def line(partner, payout, currency="USD", period="2026-09", commissions=0, bonuses=0, clawbacks=0,
         adjustments=0, carried_in=0, carried_out=0, entries=1):
    return Line(period, partner, currency, commissions, bonuses, clawbacks, adjustments, entries, carried_in,
                payout, carried_out)


def blocked(period, now, first="2026-08", done=None):
    return fr.blocked_reason(period, now, settles_from=FROM, first_period=first, settled_through=done)


def test_a_period_before_its_lock_and_fence_is_open_until_the_instant_it_may_be_settled():
    b = blocked("2026-08", datetime(2026, 8, 20, tzinfo=UTC))
    assert (b.code, b.until) == ("period_not_locked", FROM)
    assert "open until 2026-09-06T00:05:00+00:00" in b.message


def test_a_period_waits_for_the_earlier_unsettled_one_and_names_it():
    b = blocked("2026-10", datetime(2026, 11, 20, tzinfo=UTC), done="2026-08")
    assert b.code == "earlier_period_open" and "2026-09" in b.message and b.until is None
    assert blocked("2026-09", datetime(2026, 11, 20, tzinfo=UTC), done="2026-08") is None


def test_the_first_period_is_due_with_nothing_settled_and_the_one_after_it_waits():
    now = datetime(2026, 11, 20, tzinfo=UTC)
    assert blocked("2026-08", now) is None
    assert blocked("2026-09", now).code == "earlier_period_open"


def test_no_plan_and_months_before_the_program_are_blocked_in_words():
    now = datetime(2026, 11, 20, tzinfo=UTC)
    assert blocked("2026-08", now, first=None).code == "no_plan"
    early = blocked("2026-07", now)
    assert early.code == "before_program" and "2026-08" in early.message


def test_periods_between_runs_newest_first_across_a_year_end():
    assert fr.periods_between("2025-11", "2026-02") == ["2026-02", "2026-01", "2025-12", "2025-11"]
    assert fr.periods_between("2026-03", "2026-02") == []


def test_totals_add_each_column_per_currency_and_count_lines_paying_out():
    lines = [line("A", 700, commissions=500, bonuses=300, clawbacks=-100, carried_in=0),
             line("B", 0, commissions=40, carried_out=40),
             line("C", 900, currency="EUR", commissions=900)]
    t = fr.totals_by_currency(lines)
    assert list(t) == ["EUR", "USD"]
    assert t["USD"]["commissions_minor"] == 540 and t["USD"]["bonuses_minor"] == 300
    assert t["USD"]["clawbacks_minor"] == -100 and t["USD"]["carried_out_minor"] == 40
    assert (t["USD"]["payout_minor"], t["USD"]["lines"], t["USD"]["payouts"]) == (700, 2, 1)
    assert (t["EUR"]["payout_minor"], t["EUR"]["lines"], t["EUR"]["payouts"]) == (900, 1, 1)


@pytest.mark.parametrize("payout,batch,payout_status,bounce,expected", [
    (100, "approved", "failed", "confirmed", "failed"),
    (100, "paid", None, "reported", "bounce_reported"),
    (0, "approved", None, None, "carried"),
    (100, "draft", None, "dismissed", "draft"),
])
def test_a_lines_status_puts_failure_and_reported_bounces_before_the_batch(payout, batch, payout_status, bounce,
                                                                          expected):
    assert fr.line_status(payout, batch, payout_status, bounce) == expected


def test_the_comparison_finds_changes_new_and_missing_partners_and_orders_the_largest():
    previous = [line("D", 120_000, period="2026-08"), line("C", 50_000, period="2026-08"),
                line("B", 20_000, period="2026-08")]
    current = [line("C", 320_000), line("B", 150_000), line("A", 60_000)]
    c = fr.compare(current, previous, threshold_bps=30_000, threshold_minor=150_000)
    by = {x.partner_id: x for x in c.changes}
    assert (by["C"].change_minor, by["B"].change_minor, by["D"].change_minor, by["A"].change_minor) == \
        (270_000, 130_000, -120_000, 60_000)
    assert by["B"].change_bps == 65_000 and by["A"].change_bps is None  # 130,000 / 20,000 = 6.5
    assert [x.partner_id for x in c.new] == ["A"] and [x.partner_id for x in c.missing] == ["D"]
    assert [x.partner_id for x in c.largest] == ["C", "B", "D", "A"]
    # C moved by more than 150,000; B by 650 % (over 300 %); D by 100 % and A (new) by 60,000: neither
    assert sorted(x.partner_id for x in c.flagged) == ["B", "C"]


def test_a_movement_exactly_at_a_threshold_is_flagged_and_one_unit_under_is_not():
    prev = [line("X", 10_000, period="2026-08")]
    assert fr.compare([line("X", 15_000)], prev, 5_000, 10**9).flagged  # +50 % at 50 %
    assert not fr.compare([line("X", 14_999)], prev, 5_000, 10**9).flagged
    assert fr.compare([line("X", 10_000 + 777)], prev, 10**6, 777).flagged  # by amount
    assert not fr.compare([line("X", 10_000)], prev, 1, 1).flagged  # no movement, no flag


def rows():
    return [
        {"partner_id": "P-A", "partner_name": "Alma", "currency": "USD", "payout_minor": 300, "status": "draft",
         "flagged": False},
        {"partner_id": "P-B", "partner_name": "Bea", "currency": "EUR", "payout_minor": 100, "status": "draft",
         "flagged": True},
        {"partner_id": "P-C", "partner_name": None, "currency": "USD", "payout_minor": 0, "status": "carried",
         "flagged": False},
        {"partner_id": "P-D", "partner_name": "Dalmatian", "currency": "USD", "payout_minor": 300,
         "status": "failed", "flagged": True},
    ]


def ids(selected):
    return [r["partner_id"] for r in selected]


def test_the_payout_list_filters_by_status_currency_amount_flag_and_search():
    assert ids(fr.select(rows(), fr.PayoutQuery(status=frozenset({"draft", "failed"})))) == ["P-A", "P-B", "P-D"]
    assert ids(fr.select(rows(), fr.PayoutQuery(currency="USD", min_minor=1))) == ["P-A", "P-D"]
    assert ids(fr.select(rows(), fr.PayoutQuery(max_minor=100))) == ["P-B", "P-C"]
    assert ids(fr.select(rows(), fr.PayoutQuery(flagged=True))) == ["P-B", "P-D"]
    assert ids(fr.select(rows(), fr.PayoutQuery(search="ALM"))) == ["P-A", "P-D"]  # Alma, DALMatian
    assert ids(fr.select(rows(), fr.PayoutQuery(search="p-c"))) == ["P-C"]


def test_the_payout_list_sorts_with_ties_by_partner_and_missing_names_last():
    assert ids(fr.select(rows(), fr.PayoutQuery(sort="payout_minor", descending=True))) == \
        ["P-A", "P-D", "P-B", "P-C"]
    assert ids(fr.select(rows(), fr.PayoutQuery(sort="partner_name"))) == ["P-A", "P-B", "P-D", "P-C"]


def test_pages_cover_every_row_once_and_end():
    data = [{"n": i} for i in range(7)]
    first, nxt = fr.page(data, 0, 3)
    second, nxt2 = fr.page(data, nxt, 3)
    third, end = fr.page(data, nxt2, 3)
    assert [r["n"] for r in first + second + third] == list(range(7)) and end is None


def test_a_cursor_round_trips_and_a_forged_one_is_a_400():
    state = {"o": 50, "q": "x"}
    assert fr.decode_cursor(fr.encode_cursor(state)) == state
    assert fr.decode_cursor(None) is None
    for bad in ("not base64!", "W10", "e30x"):  # garbage; a list; a broken object
        with pytest.raises(InvalidInput) as e:
            fr.decode_cursor(bad)
        assert e.value.code == "invalid_cursor"
