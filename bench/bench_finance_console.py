"""Issue 15: the finance console's payout list over a batch of 10,000 lines (1,000 with --quick) on
DynamoDB Local. One page (50 lines, sorted by payout, filtered; and in the batch's own order, unfiltered,
which reads one page of lines) against the plain read of every line
of the batch (what the list is built on) and against the batch view the console used before
(`GET /settlements/{period}`, every line in one response): ratios taken in one run."""
from __future__ import annotations

import time

from chalicelib import bootstrap
from chalicelib.domain.finance_review import PayoutQuery
from chalicelib.services.settlement.batches import show
from chalicelib.services.settlement.review import payout_list
from tests.support.big_batch import PERIOD, big_batch

from .harness import Context
from .registry import Result, benchmark


def _best_of(fn, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


@benchmark("finance_payout_list", order=80)
def finance_payout_list(ctx: Context) -> Result:
    n = 1_000 if ctx.quick else 10_000
    uow = ctx.fresh_table("finance")
    big_batch(uow, n)
    d = bootstrap.settlement(fan_out=False)
    q = PayoutQuery(sort="payout_minor", descending=True, min_minor=1)
    page = _best_of(lambda: payout_list(d, PERIOD, q, None, 5_000, 10**12))
    key_order = _best_of(lambda: payout_list(d, PERIOD, PayoutQuery(), None, 5_000, 10**12))
    raw = _best_of(lambda: list(d.uow.settlement.lines(PERIOD)))
    whole = _best_of(lambda: show(d, PERIOD))
    return Result(
        {
            "lines": n,
            "page_lines": 50,
            "page_seconds": round(page, 3),
            "page_vs_reading_every_line": round(page / raw, 2),
            "page_vs_whole_batch_view": round(page / whole, 2),
            "key_order_page_seconds": round(key_order, 3),
            "key_order_page_vs_reading_every_line": round(key_order / raw, 3),
        }
    )
