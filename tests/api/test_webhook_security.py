"""The shop's webhook: HMAC over timestamp.body, constant-time comparison, 5-minute tolerance, two
secrets during a rotation, and a captured request replayed is harmless."""
from __future__ import annotations

import inspect
import json
import time

import pytest

from chalicelib import bootstrap, security
from chalicelib.domain.errors import Unauthorized
from tests.support.helpers import WEBHOOK_SECRET, signed_headers
from tests.support.program import Program, table_snapshot

NEW_SECRET = "new-webhook-secret-after-rotation-0123"


@pytest.fixture
def program(api):
    p = Program(api)
    p.publish_plan()
    p.enrol("SHOPA")
    return p


def test_the_signature_is_compared_in_constant_time():
    source = inspect.getsource(security.verify_webhook)
    assert "hmac.compare_digest" in source and "==" not in source.split("expected =")[1]


def test_a_signature_over_another_timestamp_does_not_verify():
    body = b'{"a": 1}'
    sig = security.sign(WEBHOOK_SECRET, "1000", body)
    with pytest.raises(Unauthorized):
        security.verify_webhook([WEBHOOK_SECRET], "1001", sig, body, now_epoch=1001)
    security.verify_webhook([WEBHOOK_SECRET], "1000", sig, body, now_epoch=1001)


@pytest.mark.parametrize("skew,ok", [(-299, True), (299, True), (-301, False), (301, False)])
def test_the_tolerance_is_five_minutes_either_way(skew, ok):
    body, now = b"{}", 2_000_000_000
    ts = str(now + skew)
    sig = security.sign(WEBHOOK_SECRET, ts, body)
    if ok:
        security.verify_webhook([WEBHOOK_SECRET], ts, sig, body, now_epoch=now)
    else:
        with pytest.raises(Unauthorized) as e:
            security.verify_webhook([WEBHOOK_SECRET], ts, sig, body, now_epoch=now)
        assert e.value.code == "stale_signature"


def test_a_captured_order_replayed_within_the_window_writes_nothing_new(program):
    body = Program.order_body("o-replay", 10_000, referral_code="SHOPA")
    captured = signed_headers(body)
    first = program.c.post("/webhooks/orders", headers=captured, body=body)
    assert first.status_code == 201
    before = table_snapshot()
    for _ in range(3):
        again = program.c.post("/webhooks/orders", headers=captured, body=body)
        assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
        assert json.loads(again.body) == json.loads(first.body)
    assert table_snapshot() == before


def test_a_captured_refund_replayed_writes_nothing_new(program):
    assert program.order("o-r", 10_000, referral_code="SHOPA").status_code == 201
    body = Program.refund_body("o-r", "r-1", 4_000)
    captured = signed_headers(body)
    assert program.c.post("/webhooks/refunds", headers=captured, body=body).status_code == 201
    before = table_snapshot()
    again = program.c.post("/webhooks/refunds", headers=captured, body=body)
    assert again.status_code == 200 and table_snapshot() == before


def test_a_captured_request_replayed_after_the_window_is_refused_and_writes_nothing(program, monkeypatch):
    body = Program.order_body("o-late", 10_000, referral_code="SHOPA")
    captured = signed_headers(body)
    real_now = bootstrap.now()
    monkeypatch.setattr(bootstrap, "now", lambda: real_now.__class__.fromtimestamp(time.time() + 301,
                                                                                  real_now.tzinfo))
    before = table_snapshot()
    r = program.c.post("/webhooks/orders", headers=captured, body=body)
    assert r.status_code == 401 and json.loads(r.body)["error"]["code"] == "stale_signature"
    assert table_snapshot() == before


def test_a_captured_signature_on_a_changed_body_is_refused_and_writes_nothing(program):
    body = Program.order_body("o-tamper", 10_000, referral_code="SHOPA")
    captured = signed_headers(body)
    tampered = body.replace(b"10000", b"99999")
    before = table_snapshot()
    r = program.c.post("/webhooks/orders", headers=captured, body=tampered)
    assert r.status_code == 401 and table_snapshot() == before


def rotate_to(monkeypatch, secrets: str) -> None:
    monkeypatch.setenv("UPLINE_WEBHOOK_SECRETS", secrets)
    bootstrap.settings.cache_clear()


def test_during_a_rotation_both_secrets_verify_and_after_it_only_the_new_one(program, monkeypatch):
    rotate_to(monkeypatch, f"{NEW_SECRET},{WEBHOOK_SECRET}")
    for i, secret in enumerate((WEBHOOK_SECRET, NEW_SECRET)):
        body = Program.order_body(f"o-rot-{i}", 10_000, referral_code="SHOPA")
        assert program.c.post("/webhooks/orders", headers=signed_headers(body, secret=secret),
                              body=body).status_code == 201
    rotate_to(monkeypatch, NEW_SECRET)
    body = Program.order_body("o-rot-old", 10_000, referral_code="SHOPA")
    before = table_snapshot()
    r = program.c.post("/webhooks/orders", headers=signed_headers(body, secret=WEBHOOK_SECRET), body=body)
    assert r.status_code == 401 and table_snapshot() == before
    assert program.c.post("/webhooks/orders", headers=signed_headers(body, secret=NEW_SECRET),
                          body=body).status_code == 201


def test_a_sender_may_send_both_signatures_during_a_rotation(program, monkeypatch):
    rotate_to(monkeypatch, NEW_SECRET)
    body = Program.order_body("o-both", 10_000, referral_code="SHOPA")
    headers = signed_headers(body, secret=WEBHOOK_SECRET)
    headers["X-Upline-Signature"] += "," + security.sign(NEW_SECRET, headers["X-Upline-Timestamp"], body)
    assert program.c.post("/webhooks/orders", headers=headers, body=body).status_code == 201


def test_no_configured_secret_refuses_every_webhook(program, monkeypatch):
    rotate_to(monkeypatch, "")
    monkeypatch.delenv("UPLINE_WEBHOOK_SECRETS")
    bootstrap.settings.cache_clear()
    body = Program.order_body("o-noconf", 10_000)
    r = program.c.post("/webhooks/orders", headers=signed_headers(body), body=body)
    assert r.status_code == 401 and json.loads(r.body)["error"]["code"] == "webhook_not_configured"
