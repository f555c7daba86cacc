"""A plan's `renewal_months`: a subscription's renewals earn commissions for that many months from
its first paid period, then are recorded with no commission and the reason (Stripe's invoice.paid,
from the provider's fixture, signed by the `stripe` package)."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.domain.plans import add_months
from tests.support.helpers import auth, dumps
from tests.support.program import WORKED_PLAN
from tests.support.settlement import Clock
from tests.support.shops import body_of, fields

from .test_shop_integrations import ENV, UTC, Shop, configure, out


@pytest.fixture
def shop(api_any, monkeypatch):
    clock = Clock(datetime(2024, 1, 1, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", clock)
    configure(monkeypatch, ENV)
    return Shop(api_any, clock)


def invoice_for(template: dict, n: int, period_start: datetime) -> dict:
    """The fixture's invoice for the subscription's n-th period (its own ids and times)."""
    event = copy.deepcopy(template)
    event["id"] = f"evt_renewal_{n}"
    event["created"] = int(period_start.timestamp()) + 60
    invoice = event["data"]["object"]
    invoice["id"] = f"in_renewal_{n}"
    for line in invoice["lines"]["data"]:
        line["period"] = {"start": int(period_start.timestamp()),
                          "end": int(add_months(period_start, 1).timestamp())}
    return event


def test_renewals_earn_for_the_plans_months_from_the_first_paid_period_then_say_why_not(shop):
    template = fields("stripe", "invoice.paid.json")
    first = datetime.fromtimestamp(template["data"]["object"]["lines"]["data"][0]["period"]["start"], UTC)
    shop.ready(first)
    r = shop.c.post("/admin/plans", headers=auth("admin"),
                    body=dumps({**WORKED_PLAN, "effective_from": "2011-01-01T00:00:00Z", "renewal_months": 2}))
    assert r.status_code == 201 and r.body and b'"renewal_months": 2' in r.body
    results, events = [], []
    for n in range(4):
        start = add_months(first, n)
        event = invoice_for(template, n, start)
        event["data"]["object"]["parent"]["subscription_details"]["metadata"] = {"upline_ref": "ALICE10"}
        shop.clock.t = datetime.fromtimestamp(event["created"], UTC) + timedelta(seconds=5)
        events.append(event)
        r = shop.deliver("stripe", body_of(event))
        assert r.status_code == 201, r.body
        [result] = out(r)["results"]
        results.append(result)
    assert [x["status"] for x in results] == ["attributed", "attributed", "renewal_limit", "renewal_limit"]
    assert [sum(c["amount_minor"] for c in x["commissions"]) for x in results] == [340, 340, 0, 0]
    assert "2 months" in results[2]["reason"]
    # Redelivered late, a paying renewal replays what it earned; the subscription's start never moved.
    again = shop.deliver("stripe", body_of(events[1]))
    assert again.status_code == 200 and out(again)["results"] == [results[1]]


def test_a_plan_refuses_a_renewal_limit_outside_one_to_a_hundred_and_twenty_months(shop):
    for months in (0, 121):
        r = shop.c.post("/admin/plans", headers=auth("admin"), body=dumps({**WORKED_PLAN, "renewal_months": months}))
        assert r.status_code == 400, r.body
