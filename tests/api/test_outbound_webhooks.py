"""Outbound webhooks through the API: an admin registers a local endpoint; orders, refunds and a
settlement's payouts reach it signed, at least once and under stable event ids, through an injected
failure and a redelivered stream; a delivery that exhausts its retries is dead and an admin replays it."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.domain import outbound as rules
from chalicelib.domain.settlement import payout_id
from scripts import stream
from tests.support.helpers import auth, dumps
from tests.support.outbound import Receiver
from tests.support.program import ledger_items, table_snapshot
from tests.support.settlement import AFTER_AUG_LOCK, BONUS_PLAN, Clock, Settling

UTC = timezone.utc


@pytest.fixture
def api(api_any):
    """Every test here on moto and again on DynamoDB Local (whose stream the deliveries come from)."""
    return api_any


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2026, 8, 10, 12, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", c)
    return c


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def register(api, url: str, events: list[str]) -> object:
    return api.http.post("/admin/webhooks/endpoints", headers=auth("admin"),
                         body=dumps({"url": url, "events": events, "description": "the shop's ERP"}))


def subscribe(api, receiver: Receiver, events: list[str]) -> dict:
    r = register(api, receiver.url, events)
    assert r.status_code == 201, r.body
    endpoint = json.loads(r.body)
    receiver.secret = endpoint["secret"]
    return endpoint


def pump() -> list[str]:
    """What Lambda does in AWS: the stream's records make deliveries, the queue's due messages are sent."""
    stream.outbound(bootstrap.uow())
    return stream.deliver_due()


def deliveries(api, endpoint_id: str, status: str | None = None) -> list[dict]:
    q = f"?status={status}" if status else ""
    r = api.http.get(f"/admin/webhooks/endpoints/{endpoint_id}/deliveries{q}", headers=auth("admin"))
    assert r.status_code == 200, r.body
    return json.loads(r.body)["deliveries"]


def test_commissions_reversals_and_payouts_reach_the_endpoint_once_per_event_id_through_a_failure_and_a_redelivery(
        api, clock, receiver, tmp_path):
    from chalicelib.store.files import FolderFiles

    bootstrap.use_files(FolderFiles(tmp_path / "exports"))
    p = Settling(api, clock)
    endpoint = subscribe(api, receiver, ["commission.created", "commission.reversed", "payout.approved",
                                         "payout.paid"])
    p.worked_program(BONUS_PLAN)
    p.sell("o1", 1_000_000)
    clock.t += timedelta(hours=1)
    p.give_back("o1", "r1", 200_000)

    receiver.fail_next = 1  # the endpoint's first answer is a 500
    pump()
    assert len([r for r in receiver.received if r.answered == 500]) == 1
    # The same stream batch again (Lambda retrying it), and every queued message twice (SQS's
    # at-least-once): no delivery is made again, no event is sent again.
    assert stream.outbound(bootstrap.uow()) == 0
    for d in deliveries(api, endpoint["endpoint_id"]):
        bootstrap.webhook_queue().send(d["delivery_id"])
    sent = len(receiver.received)
    stream.deliver_due()
    assert len(receiver.received) == sent
    clock.t += rules.retry_delay(1)  # the failed delivery's backoff passes
    pump()

    clock.t = AFTER_AUG_LOCK
    assert p.run().status_code == 200
    assert p.approve("2026-08", "finance-2").status_code == 200
    assert api.http.post("/settlements/2026-08/paid", headers=auth("finance", subject="finance-2"),
                         body=dumps({"reason": "bank statement"})).status_code == 200
    pump()
    pump()  # and once more: nothing new

    entries = [i for i in ledger_items() if i["order_id"] == "o1"]
    lines = [i for i in table_snapshot() if i["PK"] == "BATCH#2026-08" and i["SK"].startswith("LINE#")
             and i["payout_minor"] > 0]
    expected = {rules.event_id("commission.created", e["entry_id"]) for e in entries if e["kind"] == "commission"}
    expected |= {rules.event_id("commission.reversed", e["entry_id"]) for e in entries if e["kind"] == "reversal"}
    for ln in lines:
        pid = payout_id("2026-08", ln["partner_id"], ln["currency"])
        expected |= {rules.event_id("payout.approved", pid), rules.event_id("payout.paid", pid)}
    assert len(entries) == 6 and len(lines) == 3
    accepted = receiver.accepted()
    assert set(accepted) == expected
    assert all(len(got) == 1 for got in accepted.values())  # each event id accepted exactly once
    assert all(r.signed for r in receiver.received)
    assert all(r.body["id"] == r.event_id for r in receiver.received)
    retried = [r for r in receiver.received if r.event_id == receiver.received[0].event_id]
    assert [r.answered for r in retried] == [500, 204] and retried[0].body == retried[1].body
    log = deliveries(api, endpoint["endpoint_id"])
    assert {d["status"] for d in log} == {"delivered"} and len(log) == len(expected)
    failed_first = next(d for d in log if d["event_id"] == retried[0].event_id)
    assert [a["status_code"] for a in failed_first["log"]] == [500, 204]


def test_a_delivery_retried_for_a_day_is_dead_and_an_admin_replays_it(api, clock, receiver):
    endpoint = subscribe(api, receiver, ["partner.enrolled"])
    p = Settling(api, clock)
    p.enrol("AAA")
    receiver.always_fail = True
    pump()
    started = clock.t
    for _ in range(40):  # each backoff in turn, until it gives up
        [d] = deliveries(api, endpoint["endpoint_id"])
        if d["status"] != "pending":
            break
        clock.t = datetime.fromisoformat(d["next_at"].replace("Z", "+00:00"))
        stream.deliver_due()
    [d] = deliveries(api, endpoint["endpoint_id"], "dead")
    last = datetime.fromisoformat(d["log"][-1]["at"].replace("Z", "+00:00"))
    assert last - started >= timedelta(hours=24)
    assert d["attempts"] == len(receiver.received) and all(r.answered == 500 for r in receiver.received)
    assert d["event"]["type"] == "partner.enrolled" and d["event"]["data"]["code"] == "AAA"

    receiver.always_fail = False
    r = api.http.post(f"/admin/webhooks/deliveries/{d['delivery_id']}/replay", headers=auth("admin"), body=b"{}")
    assert r.status_code == 200, r.body
    assert json.loads(r.body)["status"] == "pending"
    stream.deliver_due()
    [after] = deliveries(api, endpoint["endpoint_id"])
    assert after["status"] == "delivered" and after["replays"] == 1
    assert list(receiver.accepted()) == [d["event_id"]]
    again = api.http.post(f"/admin/webhooks/deliveries/{d['delivery_id']}/replay", headers=auth("admin"),
                          body=b"{}")
    assert again.status_code == 409 and json.loads(again.body)["error"]["code"] == "not_dead"
    audit = json.loads(api.http.get(f"/admin/audit?day={clock.t.date().isoformat()}", headers=auth("admin")).body)
    assert "webhook.delivery.replay" in {rec["action"] for rec in audit["records"]}


def test_registering_the_same_url_again_answers_the_same_endpoint_and_a_disabled_one_gets_nothing(
        api, clock, receiver):
    first = subscribe(api, receiver, ["partner.enrolled"])
    again = register(api, receiver.url, ["partner.enrolled"])
    assert again.status_code == 200 and json.loads(again.body)["endpoint_id"] == first["endpoint_id"]
    other = register(api, receiver.url, ["order.held"])
    assert other.status_code == 409 and json.loads(other.body)["error"]["code"] == "endpoint_exists"
    listed = json.loads(api.http.get("/admin/webhooks/endpoints", headers=auth("admin")).body)["endpoints"]
    assert [e["endpoint_id"] for e in listed] == [first["endpoint_id"]] and "secret" not in listed[0]
    r = api.http.delete(f"/admin/webhooks/endpoints/{first['endpoint_id']}", headers=auth("admin"))
    assert r.status_code == 200 and json.loads(r.body)["status"] == "disabled"
    Settling(api, clock).enrol("AAA")
    pump()
    assert receiver.received == [] and deliveries(api, first["endpoint_id"]) == []


@pytest.mark.parametrize("url", ["https://localhost/hooks", "https://127.0.0.1/hooks", "https://169.254.169.254/x",
                                 "https://[::1]/hooks", "https://10.0.0.7/hooks", "https://[::ffff:192.168.0.1]/h"])
def test_an_endpoint_on_a_private_loopback_or_link_local_address_is_refused_outside_the_local_stage(
        api, monkeypatch, url):
    monkeypatch.setenv("UPLINE_OUTBOUND_ALLOW_PRIVATE", "false")
    bootstrap.settings.cache_clear()
    r = register(api, url, ["partner.enrolled"])
    assert r.status_code == 422, r.body
    assert json.loads(r.body)["error"]["code"] == "refused_destination"
    assert json.loads(api.http.get("/admin/webhooks/endpoints", headers=auth("admin")).body)["endpoints"] == []


def test_a_plain_http_endpoint_is_refused_outside_the_local_stage(api, monkeypatch):
    monkeypatch.setenv("UPLINE_OUTBOUND_ALLOW_PRIVATE", "false")
    bootstrap.settings.cache_clear()
    r = register(api, "http://hooks.example.com/upline", ["partner.enrolled"])
    assert r.status_code == 422 and json.loads(r.body)["error"]["code"] == "invalid_url"


def test_an_unknown_event_type_is_refused_and_nothing_is_written(api):
    r = register(api, "https://hooks.example.com/", ["order.created"])
    assert r.status_code == 400
    assert json.loads(api.http.get("/admin/webhooks/endpoints", headers=auth("admin")).body)["endpoints"] == []
