"""What a settlement works with, and the plan version a period is settled under."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from ...domain.periods import Calendar
from ...domain.plans import Plan, plan_in_force
from ...domain.standing import TreeRules
from ...store.files import FileStore
from ...store.uow import UnitOfWork

Progress = Callable[[str, int], None]


@dataclass
class Deps:
    uow: UnitOfWork
    files: FileStore
    cal: Calendar
    tree: TreeRules = TreeRules()
    payout_provider: str = "bank_transfer"
    fanout: Callable[[str, int], None] | None = None  # hand (period, shard) to a worker; None: settle here
    progress: Progress | None = None
    shard_threads: int = 1  # shards settled at once in-process (bootstrap passes the setting, default 4)
    sleep: Callable[[float], None] = time.sleep  # how a shard waits for the index (tests pass their own)

    def tick(self, what: str, n: int = 1) -> None:
        if self.progress:
            self.progress(what, n)


def plan_for(uow: UnitOfWork, cal: Calendar, period: str) -> Plan:
    """The plan version in force at the period's last instant: the one its bonuses and payouts use."""
    return plan_in_force(uow.plans.all(), cal.end(period) - timedelta(microseconds=1))
