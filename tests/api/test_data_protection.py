"""Security headers on every response, CORS only for allow-listed origins, capped bodies, and
no raw IP, email or phone in the table."""
from __future__ import annotations

import json

import pytest

from chalicelib import bootstrap
from chalicelib.api.middleware import SECURITY_HEADERS
from chalicelib.config import Settings
from tests.support.helpers import auth, dumps, signed_headers
from tests.support.program import Program, table_snapshot

ALLOWED = "https://dashboard.example.com"


@pytest.fixture
def program(api, monkeypatch):
    monkeypatch.setenv("UPLINE_CORS_ORIGINS", ALLOWED)
    bootstrap.settings.cache_clear()
    p = Program(api)
    p.publish_plan()
    p.enrol("HDR", email="hdr@example.com", phone="+44 20 7946 0000", customer_id="cust-hdr")
    return p


def responses(p: Program) -> dict[str, object]:
    code = p.link("HDR")
    body = Program.order_body("o1", 1000, referral_code="HDR", email="buyer@example.com", phone="+1 555 0199")
    return {
        "json 200": p.c.get("/partners/P-HDR", headers=auth("admin")),
        "redirect": p.c.get(f"/r/{code}"),
        "401": p.c.get("/partners/P-HDR"),
        "403": p.c.get("/partners/P-HDR", headers=auth("partner", "P-OTHER")),
        "404": p.c.get("/partners/P-NOPE", headers=auth("admin")),
        "413": p.c.post("/webhooks/orders", headers=signed_headers(b"x" * 70_000), body=b"x" * 70_000),
        "webhook 201": p.c.post("/webhooks/orders", headers=signed_headers(body), body=body),
        "openapi": p.c.get("/openapi.json"),
        "health": p.c.get("/health"),
    }


def test_every_response_carries_the_security_headers(program):
    for name, r in responses(program).items():
        for header, value in SECURITY_HEADERS.items():
            assert r.headers.get(header) == value, (name, header)
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


def test_cors_answers_only_an_allow_listed_origin_and_never_with_a_wildcard(program):
    ok = program.c.get("/me", headers={**auth("admin"), "Origin": ALLOWED})
    assert ok.headers["Access-Control-Allow-Origin"] == ALLOWED and ok.headers["Vary"] == "Origin"
    evil = program.c.get("/me", headers={**auth("admin"), "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in evil.headers
    for r in responses(program).values():
        assert r.headers.get("Access-Control-Allow-Origin") != "*"


def test_every_route_answers_a_preflight_with_cors_headers_only_for_an_allowed_origin(program):
    from app import app

    for path, methods in app.routes.items():
        assert "OPTIONS" in methods or path == "/health", path  # a load balancer's probe needs no CORS
    ok = program.c.request("OPTIONS", "/partners/P-HDR/commissions", headers={"Origin": ALLOWED})
    assert ok.status_code == 204 and ok.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Authorization" in ok.headers["Access-Control-Allow-Headers"]
    evil = program.c.request("OPTIONS", "/partners/P-HDR/commissions", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 204 and "Access-Control-Allow-Origin" not in evil.headers
    assert evil.body in (b"", "")


def test_a_wildcard_cors_origin_is_refused_at_start_up():
    with pytest.raises(ValueError):
        Settings.from_env({"UPLINE_CORS_ORIGINS": "*"})
    with pytest.raises(ValueError):
        Settings.from_env({"UPLINE_CORS_ORIGINS": "https://*.example.com"})


def test_an_oversized_body_is_refused_before_it_is_parsed_and_writes_nothing(program):
    before = table_snapshot()
    big = dumps({"name": "x" * 70_000})
    r = program.c.post("/partners", headers=auth("admin"), body=big)
    assert r.status_code == 413 and table_snapshot() == before


def test_no_raw_ip_email_phone_or_customer_id_is_stored(program):
    responses(program)
    stored = json.dumps(table_snapshot(), default=str).lower()
    for raw in ("127.0.0.1", "hdr@example.com", "buyer@example.com", "7946", "555 0199", "5550199",
                "cust-hdr", "cust-1"):
        assert raw not in stored, raw
    assert "IDENTITY#" in json.dumps(table_snapshot())  # the hashes are there, keyed with the pepper


def test_secrets_come_only_from_the_environment():
    s = Settings.from_env({})
    assert s.webhook_secrets == [] and s.jwt_secret is None and s.hash_pepper == ""
    s = Settings.from_env({"UPLINE_WEBHOOK_SECRETS": "a,b", "UPLINE_JWT_SECRET": "j", "UPLINE_HASH_PEPPER": "p"})
    assert s.webhook_secrets == ["a", "b"] and s.jwt_secret == "j" and s.hash_pepper == "p"


def test_an_order_without_identity_fields_fingerprints_as_it_did_before_they_existed():
    import hashlib
    from datetime import datetime, timezone

    from chalicelib.api.http import fingerprint
    from chalicelib.api.schemas import OrderIn

    body = {"order_id": "o1", "customer_id": "c", "amount_minor": 100, "currency": "USD",
            "ordered_at": datetime(2026, 1, 1, tzinfo=timezone.utc).isoformat(), "click_id": None,
            "referral_code": None}
    legacy = {**body, "ordered_at": "2026-01-01T00:00:00Z"}
    expected = hashlib.sha256(json.dumps(legacy, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert fingerprint(OrderIn.model_validate(body)) == expected
    assert fingerprint(OrderIn.model_validate({**body, "email": "a@b.c"})) != expected
