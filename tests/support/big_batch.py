"""A settlement batch of many payout lines, written straight through the settlement store (as the
shards write them), for the payout list's paging test and its benchmark."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.domain.settlement import Line, shard_of
from chalicelib.store.settlement import SHARDS, NewLine
from chalicelib.store.uow import UnitOfWork

PERIOD = "2026-08"
AT = datetime(2026, 9, 7, tzinfo=timezone.utc)


def payout_of(i: int) -> int:
    """Line i's payout: a spread of amounts (every 10th line carried, nothing paid)."""
    return 0 if i % 10 == 0 else 5_000 + (i * 7_919) % 1_000_000


def big_batch(uow: UnitOfWork, n: int, period: str = PERIOD) -> None:
    uow.settlement.create_batch(period, "finance-1", AT, 1)
    fresh = []
    for i in range(n):
        pid = f"P-{i:05d}"
        pay = payout_of(i)
        carried = 0 if pay else 3_000
        line = Line(period, pid, "USD", pay + carried, 0, 0, 0, 1, 0, pay, carried)
        fresh.append(NewLine(line, shard_of(pid, SHARDS), f"Partner {i}", "bank_transfer", None))
    uow.settlement.write_lines(fresh)
