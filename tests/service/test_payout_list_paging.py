"""The payout list at 10,000 lines, on the in-memory twin: a page is 50 lines, the pages cover the
filtered list once, in order (server-side paging over the batch's line items)."""
from __future__ import annotations

from chalicelib.domain.finance_review import PayoutQuery
from chalicelib.domain.periods import Calendar
from chalicelib.services.settlement.deps import Deps
from chalicelib.services.settlement.review import payout_list
from tests.support.big_batch import PERIOD, big_batch, payout_of

N = 10_000


def test_a_batch_of_ten_thousand_lines_is_served_fifty_at_a_time_largest_first(uow):
    big_batch(uow, N)
    d = Deps(uow=uow, files=None, cal=Calendar())  # type: ignore[arg-type]  # the list reads no files
    q = PayoutQuery(sort="payout_minor", descending=True, min_minor=1)
    first = payout_list(d, PERIOD, q, None, 5_000, 10**12)
    paying = sorted((payout_of(i) for i in range(N) if payout_of(i) > 0), reverse=True)
    assert first["total"] == len(paying) == N - N // 10
    assert len(first["lines"]) == 50
    assert [ln["payout_minor"] for ln in first["lines"]] == paying[:50]
    second = payout_list(d, PERIOD, q, first["next"], 5_000, 10**12)
    assert [ln["payout_minor"] for ln in second["lines"]] == paying[50:100]
    assert not {ln["partner_id"] for ln in first["lines"]} & {ln["partner_id"] for ln in second["lines"]}


def test_a_search_among_ten_thousand_lines_finds_the_one_partner(uow):
    big_batch(uow, N)
    d = Deps(uow=uow, files=None, cal=Calendar())  # type: ignore[arg-type]
    found = payout_list(d, PERIOD, PayoutQuery(search="partner 4321"), None, 5_000, 10**12)
    assert [ln["partner_id"] for ln in found["lines"]] == ["P-04321"] and found["next"] is None
    carried = payout_list(d, PERIOD, PayoutQuery(status=frozenset({"carried"})), None, 5_000, 10**12)
    assert carried["total"] == N // 10 and len(carried["lines"]) == 50


def test_in_the_batchs_own_order_the_pages_walk_all_ten_thousand_lines_once_fifty_at_a_time(uow):
    big_batch(uow, N)
    d = Deps(uow=uow, files=None, cal=Calendar())  # type: ignore[arg-type]
    seen, cursor, sizes = [], None, set()
    while True:
        page = payout_list(d, PERIOD, PayoutQuery(), cursor, 5_000, 10**12)
        sizes.add(len(page["lines"]))
        seen += [ln["partner_id"] for ln in page["lines"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [f"P-{i:05d}" for i in range(N)] and sizes == {50}
