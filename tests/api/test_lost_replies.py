"""A write whose reply is lost: the store retries it, meets its own write, and the service answers
as if the reply had arrived, without writing anything twice."""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone

from botocore.exceptions import ReadTimeoutError

from chalicelib import bootstrap
from chalicelib.auth import Principal
from chalicelib.services import plans as plans_svc
from chalicelib.services.settlement.approval import approve
from chalicelib.services.settlement.close import close_period
from chalicelib.store.dynamo import Retry, Table
from chalicelib.store.uow import UnitOfWork
from tests.support.program import Program, ledger_items, sale_postings

UTC = timezone.utc


class LoseReply:
    """Loses the reply of the n-th call of `operation` (after the write happened)."""

    def __init__(self, client, operation: str, nth: int = 1):
        self._client, self.operation, self.nth, self.seen = client, operation, nth, 0

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if name != self.operation:
            return attr

        def call(*args, **kwargs):
            result = attr(*args, **kwargs)
            self.seen += 1
            if self.seen == self.nth:
                raise ReadTimeoutError(endpoint_url="http://dynamodb")
            return result
        return call


def losing(uow: UnitOfWork, operation: str) -> LoseReply:
    """From now on the app's table loses the reply of the first `operation` call."""
    proxy = LoseReply(uow.table.client, operation)
    bootstrap.use_table(Table(proxy, uow.table.name, Retry(sleep=lambda s: None)))
    return proxy


def test_an_order_whose_transaction_reply_is_lost_is_recorded_once_and_answers_the_same(api, wired):
    p = Program(api)
    p.publish_plan()
    p.chain(["AAA", "BBB"])
    proxy = losing(wired, "transact_write_items")
    at = datetime.now(UTC)
    first = p.order("o-lost", 10_000, referral_code="BBB", at=at)
    assert proxy.seen == 1 and first.status_code in (200, 201)
    again = p.order("o-lost", 10_000, referral_code="BBB", at=at)
    assert again.status_code == 200
    assert json.loads(first.body)["commissions"] == json.loads(again.body)["commissions"] != []
    assert sorted(i["entry_id"] for i in ledger_items()) == ["o-lost#L1", "o-lost#L2"]
    assert [(i["sale_partner"], i["order_id"]) for i in sale_postings()] == [("P-BBB", "o-lost")]  # counted once


def test_a_refund_whose_transaction_reply_is_lost_reverses_once(api, wired):
    p = Program(api)
    p.publish_plan()
    p.chain(["AAA", "BBB"])
    p.order("o1", 10_000, referral_code="BBB")
    losing(wired, "transact_write_items")
    r = p.refund("o1", "r1", 4_000)
    assert r.status_code in (200, 201)
    reversals = [i for i in ledger_items() if i["kind"] == "reversal"]
    assert sorted(i["amount_minor"] for i in reversals) == [-400, -200]


def test_a_plan_whose_publish_reply_was_lost_is_published_once(wired):
    losing(wired, "transact_write_items")
    uow = bootstrap.uow()
    plan = plans_svc.publish(uow, levels_bps=[1000], cap_bps=None, rank_overrides={}, holding_days=0,
                             effective_from=datetime(2026, 1, 1, tzinfo=UTC), created_by="admin",
                             max_depth=10, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert plan.version == 1 and [p.version for p in uow.plans.all()] == [1]


def test_an_approval_whose_reply_was_lost_is_an_approval_not_a_conflict(api, wired, tmp_path, monkeypatch):
    from tests.support.settlement import AFTER_AUG_LOCK, Clock, Settling

    clock = Clock(datetime(2026, 8, 10, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", clock)
    p = Settling(api, clock)
    p.worked_program()
    p.sell("o1", 6_200_000)
    clock.t = AFTER_AUG_LOCK
    d = bootstrap.settlement(fan_out=False)
    assert close_period(d, "2026-08", AFTER_AUG_LOCK, "system")["status"] == "draft"
    losing(wired, "update_item")
    d = bootstrap.settlement(fan_out=False)
    batch = approve(d, "2026-08", Principal(subject="finance-2", role="finance"), AFTER_AUG_LOCK)
    assert batch["status"] == "approved" and batch["approved_by"] == "finance-2"


def test_an_admin_sending_the_same_plan_again_gets_the_same_version_and_a_changed_plan_gets_a_new_one(api, wired):
    p = Program(api)
    first = p.publish_plan()
    again = p.publish_plan()
    changed = p.publish_plan({"levels_bps": [900], "effective_from": "2020-01-01T00:00:00Z"})
    assert first["version"] == again["version"] == 1 and changed["version"] == 2
    assert [v.version for v in wired.plans.all()] == [1, 2]
