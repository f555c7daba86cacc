"""Every malformed or hostile request gets a 4xx in the house error shape and writes nothing."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.helpers import auth, dumps, signed_headers
from tests.support.program import Program, table_snapshot

NOW = datetime.now(timezone.utc)
GOOD_ORDER = {"order_id": "o1", "customer_id": "c1", "amount_minor": 1000, "currency": "USD",
              "ordered_at": NOW.isoformat(), "referral_code": "AAA"}


@pytest.fixture
def program(api):
    p = Program(api)
    p.publish_plan()
    p.enrol("AAA")
    p.order("o-existing", 5000, referral_code="AAA")
    return p


def order(**changes):
    body = {**GOOD_ORDER, **changes}
    return dumps({k: v for k, v in body.items() if v is not ...})


BAD_ORDERS = {
    "not json": b"{nope",
    "a json list": b"[]",
    "empty": b"",
    "missing amount": order(amount_minor=...),
    "amount as string": order(amount_minor="1000"),
    "amount as float": order(amount_minor=10.5),
    "negative amount": order(amount_minor=-1),
    "zero amount": order(amount_minor=0),
    "absurd amount": order(amount_minor=10**15),
    "unknown currency": order(currency="XYZ"),
    "lowercase currency": order(currency="usd"),
    "naive timestamp": order(ordered_at="2026-01-01T00:00:00"),
    "not a timestamp": order(ordered_at="yesterday"),
    "over-long order id": order(order_id="o" * 65),
    "order id with a hash": order(order_id="o#1"),
    "over-long customer": order(customer_id="c" * 129),
    "over-long click id": order(click_id="c" * 65),
    "bad referral code": order(referral_code="<script>"),
    "unknown field": order(partner_id="P-AAA"),
    "null body fields": order(order_id=None),
}


@pytest.mark.parametrize("name", list(BAD_ORDERS))
def test_bad_order_bodies_get_a_4xx_and_write_nothing(program, name):
    body = BAD_ORDERS[name]
    before = table_snapshot()
    r = program.c.post("/webhooks/orders", headers=signed_headers(body), body=body)
    assert 400 <= r.status_code < 500, (name, r.status_code, r.body)
    err = json.loads(r.body)["error"]
    assert set(err) == {"code", "message"} and err["code"] and err["message"]
    assert table_snapshot() == before


def test_an_oversized_body_is_413(program):
    body = order(customer_id="c" * 100) + b" " * (70 * 1024)
    r = program.c.post("/webhooks/orders", headers=signed_headers(body), body=body)
    assert r.status_code == 413


@pytest.mark.parametrize("case", ["no signature", "wrong secret", "stale", "body changed"])
def test_unsigned_forged_or_stale_webhooks_are_401_and_write_nothing(program, case):
    body = order()
    headers = {
        "no signature": {"Content-Type": "application/json"},
        "wrong secret": signed_headers(body, secret="not-the-secret"),
        "stale": signed_headers(body, at=int((NOW - timedelta(minutes=6)).timestamp())),
        "body changed": signed_headers(order(amount_minor=1)),
    }[case]
    before = table_snapshot()
    r = program.c.post("/webhooks/orders", headers=headers, body=body)
    assert r.status_code == 401 and json.loads(r.body)["error"]["code"] in ("bad_signature", "stale_signature")
    assert table_snapshot() == before


BAD_REFUNDS = {
    "unknown order": {"order_id": "nope"},
    "wrong currency": {"currency": "EUR"},
    "more than the order": {"amount_minor": 5001},
    "negative": {"amount_minor": -5},
    "before the order": {"refunded_at": (NOW - timedelta(days=2)).isoformat()},
    "missing refund id": {"refund_id": ...},
}


@pytest.mark.parametrize("name", list(BAD_REFUNDS))
def test_bad_refunds_get_a_4xx_and_write_nothing(program, name):
    good = {"order_id": "o-existing", "refund_id": "r1", "amount_minor": 100, "currency": "USD",
            "refunded_at": (NOW + timedelta(minutes=1)).isoformat()}
    body = dumps({k: v for k, v in {**good, **BAD_REFUNDS[name]}.items() if v is not ...})
    before = table_snapshot()
    r = program.c.post("/webhooks/refunds", headers=signed_headers(body), body=body)
    assert 400 <= r.status_code < 500, (name, r.body)
    assert set(json.loads(r.body)["error"]) == {"code", "message"}
    assert table_snapshot() == before


BAD_ADMIN = [
    ("/partners", {"name": ""}),
    ("/partners", {"name": "x" * 121}),
    ("/partners", {"name": "X", "code": "a b"}),
    ("/partners", {"name": "X", "sponsor_code": "NOPE"}),
    ("/partners", {"name": "X", "customer_id": ["a"]}),
    ("/admin/plans", {"levels_bps": []}),
    ("/admin/plans", {"levels_bps": [10001]}),
    ("/admin/plans", {"levels_bps": [6000, 6000]}),
    ("/admin/plans", {"levels_bps": [100] * 11}),
    ("/admin/plans", {"levels_bps": [100], "holding_days": -1}),
    ("/admin/plans", {"levels_bps": [100.5]}),
    ("/admin/partners/P-NOPE/status", {"status": "inactive"}),
    ("/admin/partners/P-AAA/status", {"status": "sleeping"}),
    ("/admin/partners/P-NOPE/move", {"new_sponsor_code": "AAA"}),
    ("/admin/partners/P-AAA/move", {"new_sponsor_code": "NOPE"}),
]


@pytest.mark.parametrize("path,body", BAD_ADMIN)
def test_bad_admin_requests_get_a_4xx_and_write_nothing(program, path, body):
    before = table_snapshot()
    r = program.c.post(path, headers=auth("admin"), body=dumps(body))
    assert 400 <= r.status_code < 500, (path, body, r.body)
    assert set(json.loads(r.body)["error"]) == {"code", "message"}
    assert table_snapshot() == before


@pytest.mark.parametrize("path", ["/partners/P-NOPE", "/partners/P-NOPE/commissions",
                                  "/partners/P-NOPE/downline", "/partners/P-AAA/downline?level=99",
                                  "/partners/P-AAA/downline?level=x"])
def test_unknown_partners_and_bad_queries_are_4xx(program, path):
    r = program.c.get(path, headers=auth("admin"))
    assert r.status_code in (400, 404) and "error" in json.loads(r.body)


def test_link_bodies_are_validated(program):
    before = table_snapshot()
    for body in ({"destination": 5}, {"destination": "https://shop.example.com/", "code": "!!"}, {}):
        r = program.c.post("/links", headers=auth("partner", "P-AAA"), body=dumps(body))
        assert r.status_code == 400
    assert table_snapshot() == before
