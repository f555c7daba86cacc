"""The long simulation runs 2,000 histories in one process and one moto session: a history must
leave nothing behind, or the run grows by megabytes a history (it once reached 3.2 GB at 650)."""
from __future__ import annotations

import gc

from tests.simulation.conftest import fresh_table
from tests.simulation.fastmoto import fast_dynamodb_replies
from tests.simulation.sim import Simulation
from tests.simulation.test_simulation import QUICK_RATE, QUICK_START, QUICK_STEPS

WARM, MEASURED = 4, 4
# Before the fix each of these short histories left thousands of objects behind (moto kept a copy
# of the whole table per transaction); after it, what grows is bounded caches filling (botocore's
# endpoint cache, the code LRU), a few dozen objects in all.
MARGIN = 500


def _live_objects() -> int:
    # Objects frozen by the app's first request (api/middleware.py) are not counted; anything a
    # history leaves after that is.
    gc.collect()
    return len(gc.get_objects())


def test_histories_sharing_one_moto_session_leave_no_objects_behind(moto_session, http):
    with fast_dynamodb_replies():
        def history(seed: int) -> None:
            with fresh_table(moto_session, f"mem-{seed}") as name:
                Simulation(seed, moto_session, name, http=http, steps=QUICK_STEPS, fault_rate=QUICK_RATE,
                           start=QUICK_START).run()

        for seed in range(1, WARM + 1):  # imports, clients, the first request's freeze
            history(seed)
        after_warm_up = _live_objects()
        for seed in range(WARM + 1, WARM + MEASURED + 1):
            history(seed)
        grown = _live_objects() - after_warm_up
    assert grown < MARGIN, f"{MEASURED} histories left {grown} objects behind"
