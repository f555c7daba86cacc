"""A small program with a worked-example plan, a moveable clock, and settlement helpers."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from chalicelib import bootstrap
from chalicelib.services.settlement.deps import Deps
from tests.support.helpers import auth, dumps
from tests.support.program import Program

UTC = timezone.utc
AUG = datetime(2026, 8, 10, 12, tzinfo=UTC)
AFTER_AUG_LOCK = datetime(2026, 9, 6, 1, tzinfo=UTC)  # August locks 5 September (UTC, 5 lock days)
AFTER_SEP_LOCK = datetime(2026, 10, 6, 1, tzinfo=UTC)

LADDER = [{"threshold_minor": 1_000_000, "flat_minor": 20_000},
          {"threshold_minor": 5_000_000, "flat_minor": 150_000},
          {"threshold_minor": 10_000_000, "flat_minor": 400_000}]
BONUS_PLAN = {
    "levels_bps": [1000, 500, 200], "cap_bps": 2000, "holding_days": 10, "min_payout_minor": 5_000,
    "effective_from": "2026-08-01T00:00:00Z",
    "bonus": {"currency": "USD", "basis": "personal", "ladder": LADDER, "overachievement_bps": 500},
}


class Clock:
    def __init__(self, t: datetime):
        self.t = t

    def __call__(self) -> datetime:
        return self.t


class Settling(Program):
    """The API as the shop, admins, finance and partners use it, plus direct service calls."""

    def __init__(self, client: Any, clock: Clock):
        super().__init__(client)
        self.clock = clock

    def worked_program(self, plan: dict = BONUS_PLAN) -> None:
        self.clock.t = AUG
        self.publish_plan(plan)
        self.chain(["AAA", "BBB", "CCC", "DDD"])

    def sell(self, order_id: str, amount: int, code: str = "DDD", customer: str = "cust-1") -> dict:
        r = self.order(order_id, amount, customer=customer, at=self.clock.t, referral_code=code)
        assert r.status_code in (200, 201), r.body
        return json.loads(r.body)

    def give_back(self, order_id: str, refund_id: str, amount: int) -> dict:
        r = self.refund(order_id, refund_id, amount, at=self.clock.t)
        assert r.status_code in (200, 201), r.body
        return json.loads(r.body)

    def set_target(self, code: str, period: str, amount: int) -> None:
        r = self.c.put(f"/admin/partners/P-{code}/targets/{period}", headers=auth("admin"),
                       body=dumps({"target_minor": amount}))
        assert r.status_code == 200, r.body

    def run(self, period: str | None = None, who: str = "finance-1", dry_run: bool = False) -> Any:
        body = {"dry_run": dry_run, **({"period": period} if period else {})}
        return self.c.post("/settlements/run", headers=auth("finance", subject=who), body=dumps(body))

    def batch(self, period: str) -> dict:
        r = self.c.get(f"/settlements/{period}", headers=auth("finance"))
        assert r.status_code == 200, r.body
        return json.loads(r.body)

    def lines(self, period: str) -> dict[str, dict]:
        return {f"{ln['partner_id']}/{ln['currency']}": ln for ln in self.batch(period)["lines"]}

    def export(self, period: str, name: str, who: str = "finance-1") -> bytes:
        r = self.c.get(f"/settlements/{period}/exports/{name}/content", headers=auth("finance", subject=who))
        assert r.status_code == 200, r.body
        return r.body if isinstance(r.body, bytes) else r.body.encode()

    def approve(self, period: str, who: str) -> Any:
        return self.c.post(f"/settlements/{period}/approve", headers=auth("finance", subject=who), body=b"{}")


def deps(**kw) -> Deps:
    return bootstrap.settlement(**kw)
