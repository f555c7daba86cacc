"""Orders and refunds through the signed webhook, on moto and on DynamoDB Local."""
import json

import pytest

from tests.support.program import Program, credited, ledger_items, past_the_fence, project_figures, table_snapshot


@pytest.fixture
def program(api_any):
    p = Program(api_any)
    p.publish_plan()
    p.chain(["AAA", "BBB", "CCC", "DDD"])
    return p


def test_worked_example_order_through_ds_link_credits_d_c_and_b(program):
    r = program.order("o-120", 12000, click_id=program.follow(program.link("DDD")))
    assert r.status_code == 201
    assert credited(r) == {"P-DDD": 1200, "P-CCC": 600, "P-BBB": 240}
    body = json.loads(r.body)
    assert body["attribution"]["source"] == "click" and body["plan_version"] == 1


def test_worked_example_with_c_inactive_compresses_to_b_and_a(program, api_any, monkeypatch):
    from tests.support.helpers import auth, dumps
    r = api_any.http.post("/admin/partners/P-CCC/status", headers=auth("admin"), body=dumps({"status": "inactive"}))
    assert r.status_code == 200
    past_the_fence(monkeypatch)  # a change of status takes effect a fence after it is made
    r = program.order("o-120", 12000, referral_code="DDD")
    assert credited(r) == {"P-DDD": 1200, "P-BBB": 600, "P-AAA": 240}


def test_worked_example_refunds_reverse_proportionally_then_net_to_zero(program):
    program.order("o-120", 12000, referral_code="DDD")
    r = program.refund("o-120", "r-30", 3000)
    assert r.status_code == 201
    assert {x["partner_id"]: x["amount_minor"] for x in json.loads(r.body)["reversals"]} == \
        {"P-DDD": -300, "P-CCC": -150, "P-BBB": -60}
    assert program.refund("o-120", "r-90", 9000).status_code == 201
    assert [program.net(x) for x in ["DDD", "CCC", "BBB"]] == [0, 0, 0]
    states = {e["entry_id"]: e["state"] for e in program.commissions("DDD")["entries"]}
    assert states["o-120#L1"] == "reversed"


def test_refunds_can_never_reverse_more_than_the_order(program):
    program.order("o1", 10000, referral_code="DDD")
    assert program.refund("o1", "r1", 6000).status_code == 201
    before = table_snapshot()
    r = program.refund("o1", "r2", 4001)
    assert r.status_code == 422 and json.loads(r.body)["error"]["code"] == "refund_exceeds_order"
    assert table_snapshot() == before


def test_replaying_an_order_returns_the_first_result_and_writes_nothing(program):
    body = program.order_body("o1", 5000, referral_code="DDD")
    first = program.post("/webhooks/orders", body)
    assert first.status_code == 201
    snapshot = table_snapshot()
    again = program.post("/webhooks/orders", body)
    assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
    assert json.loads(again.body) == json.loads(first.body)
    assert table_snapshot() == snapshot


def test_same_order_id_with_a_different_body_is_a_conflict(program):
    program.order("o1", 5000, referral_code="DDD")
    before = table_snapshot()
    r = program.order("o1", 5001, referral_code="DDD")
    assert r.status_code == 409 and json.loads(r.body)["error"]["code"] == "idempotency_conflict"
    assert table_snapshot() == before


def test_replaying_a_refund_returns_the_first_result_and_a_changed_one_conflicts(program):
    program.order("o1", 5000, referral_code="DDD")
    body = program.refund_body("o1", "r1", 1000)
    assert program.post("/webhooks/refunds", body).status_code == 201
    snapshot = table_snapshot()
    assert program.post("/webhooks/refunds", body).status_code == 200
    assert table_snapshot() == snapshot
    assert program.refund("o1", "r1", 999).status_code == 409


def test_self_referral_earns_nothing_and_says_why(api_any):
    p = Program(api_any)
    p.publish_plan()
    p.enrol("AAA")
    p.enrol("BBB", "AAA", customer_id="shop-customer-77")
    r = p.order("o1", 10000, customer="shop-customer-77", click_id=p.follow(p.link("BBB")))
    body = json.loads(r.body)
    assert r.status_code == 201 and body["status"] == "self_referral" and body["commissions"] == []
    assert "self-referral" in body["reason"]
    assert ledger_items() == []


def test_a_customers_first_attribution_binds_their_repeat_orders_to_that_partner(program):
    program.order("o1", 1000, customer="cust-9", referral_code="CCC")
    r = program.order("o2", 2000, customer="cust-9")
    body = json.loads(r.body)
    assert body["attribution"]["source"] == "binding" and body["attribution"]["partner_id"] == "P-CCC"
    # A later code for another partner attributes that order but does not steal the binding.
    program.order("o3", 2000, customer="cust-9", referral_code="DDD")
    assert json.loads(program.order("o4", 2000, customer="cust-9").body)["attribution"]["partner_id"] == "P-CCC"


def test_an_order_with_no_click_code_or_binding_is_recorded_unattributed(program):
    r = program.order("o1", 1000, customer="stranger")
    assert r.status_code == 201 and json.loads(r.body)["status"] == "unattributed"
    assert ledger_items() == []


def test_partner_counters_follow_credits_and_reversals(program, api_any):
    from tests.support.helpers import auth
    program.order("o1", 10000, referral_code="DDD")
    program.refund("o1", "r1", 10000)
    project_figures()  # the counters are projected from the ledger's stream, a moment later
    d = json.loads(api_any.http.get("/partners/P-DDD", headers=auth("partner", "P-DDD")).body)
    assert d["counters"]["credited_USD"] == 1000 and d["counters"]["reversed_USD"] == 1000
    assert d["counters"]["attributed_orders"] == 1 and d["counters"]["sales_USD"] == 10000
