"""Two settlement runs interleaved at the worst moment, made deterministic with a client proxy."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.services.settlement.close import close_period, run_daily
from chalicelib.services.settlement.exports import verify_exports
from tests.integration.test_settlement_runs import PERIOD, busy_august, deps_on, exports, money_items
from tests.support.settlement import AFTER_AUG_LOCK, Clock, Settling


class BeforeCarryRead:
    """Runs `hook` once, just before the first batch read of carried balances."""

    def __init__(self, client, hook):
        self._client, self.hook = client, hook

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if name != "batch_get_item":
            return attr

        def call(**kwargs):
            keys = next(iter(kwargs["RequestItems"].values()))["Keys"]
            if self.hook and any(k["SK"]["S"].startswith("CARRY#") for k in keys):
                hook, self.hook = self.hook, None
                hook()
            return attr(**kwargs)
        return call


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2026, 8, 10, tzinfo=timezone.utc))
    monkeypatch.setattr(bootstrap, "now", c)
    return c


def test_a_run_that_finds_its_lines_written_by_another_run_mid_shard_reports_them(api, clock, moto_client, tmp_path):
    busy_august(Settling(api, clock))
    other = deps_on(moto_client, tmp_path / "other")
    slow = deps_on(BeforeCarryRead(moto_client, lambda: close_period(other, PERIOD, AFTER_AUG_LOCK, "system")),
                   tmp_path / "slow")
    # Before the fix the slow run saw the carry moved to this period and refused with out_of_order.
    batch = close_period(slow, PERIOD, AFTER_AUG_LOCK, "system")
    assert batch["status"] == "draft" and batch["reconciliation"]["ok"]
    reference = money_items(moto_client)
    assert close_period(deps_on(moto_client, tmp_path / "again"), PERIOD, AFTER_AUG_LOCK, "x") == batch
    assert money_items(moto_client) == reference
    assert verify_exports(other, PERIOD) == {"summary": True, "detail": True, "json": True}
    assert exports(tmp_path / "other")


class CrashAfterBatchFinished:
    """Dies right after the write that turns the batch from building into a draft."""

    def __init__(self, client):
        self._client, self.crashed = client, False

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if name != "update_item":
            return attr

        def call(**kwargs):
            result = attr(**kwargs)
            # The expression names its attributes through placeholders: look for the name itself.
            names = set(kwargs.get("ExpressionAttributeNames", {}).values())
            if not self.crashed and ("finished_at" in names or "finished_at" in kwargs.get("UpdateExpression", "")):
                self.crashed = True
                raise RuntimeError("the process died")
            return result
        return call


def test_a_rerun_after_a_crash_between_the_batch_and_closing_the_period_closes_it(api, clock, moto_client, tmp_path):
    busy_august(Settling(api, clock))
    crashing = CrashAfterBatchFinished(moto_client)
    with pytest.raises(RuntimeError):
        close_period(deps_on(crashing, tmp_path / "a"), PERIOD, AFTER_AUG_LOCK, "system")
    d = deps_on(moto_client, tmp_path / "a")
    assert d.uow.settlement.batch(PERIOD)["status"] == "draft" and d.uow.settlement.period(PERIOD)["status"] == "bonused"
    # Before the fix the rerun returned the finished batch and left the period half-closed for good.
    assert run_daily(d, AFTER_AUG_LOCK) == [{"period": PERIOD, "status": "draft"}]
    assert d.uow.settlement.period(PERIOD)["status"] == "closed" and d.uow.settlement.settled_through() == PERIOD
    assert run_daily(d, AFTER_AUG_LOCK) == []
