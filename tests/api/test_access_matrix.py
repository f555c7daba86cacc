"""The authorization matrix (chalicelib/api/access.py) walked against the app: every route x every
role, and every "own" cell with somebody else's id. A route on the app without a row fails here."""
from __future__ import annotations

import json
import os
import re

import pytest

from app import app
from chalicelib.api import access
from chalicelib.auth import mint_token
from tests.support.helpers import JWT_SECRET, auth, dumps, signed_headers
from tests.support.program import Program

# Members' ids follow from their hashed customer ids: the fixture registers both and fills them in.
OWN = {"partner_id": "P-OWNA", "member_id": "M-own-unregistered"}
OTHER = {"partner_id": "P-OTHB", "member_id": "M-other-unregistered"}
PARAMS = {"code": "OWNA", "period": "2026-07", "name": "summary", "currency": "USD", "order_id": "no-such-order",
          "endpoint_id": "whe_no_such_endpoint", "delivery_id": "dlv_no_such_delivery", "folder": "js",
          "sub": "pages"}
REFUSALS = {"unauthorized", "bad_signature", "forbidden_role", "forbidden", "route_not_authorized"}


def headers_for(role: str, body: bytes) -> dict[str, str]:
    if role == access.ANONYMOUS:
        return {"Content-Type": "application/json"}
    if role == access.WEBHOOK:
        return signed_headers(body)
    if role == access.MEMBER:
        tok = mint_token(os.environ.get("UPLINE_JWT_SECRET", JWT_SECRET), "member", "member-user",
                         member_id=OWN["member_id"])
        return {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}
    return auth(role, OWN["partner_id"] if role == access.PARTNER else None)


def call(client, method: str, path: str, role: str, ids: dict[str, str]):
    url = re.sub(r"{(\w+)}", lambda mt: ids.get(mt.group(1)) or PARAMS[mt.group(1)], path)
    body = b"{}" if method in ("POST", "PUT") else b""
    return client.http.request(method, url, headers=headers_for(role, body), body=body)


def error_code(r) -> str | None:
    try:
        return json.loads(r.body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def register_member(api, customer: str) -> str:
    body = dumps({"customer_id": customer, "email": f"{customer}@example.com"})
    r = api.http.post("/webhooks/members", headers=signed_headers(body), body=body)
    assert r.status_code == 201, r.body
    return json.loads(r.body)["member_id"]


@pytest.fixture
def two_partners(api, monkeypatch):
    p = Program(api)
    p.enrol("OWNA")
    p.enrol("OTHB")
    monkeypatch.setitem(OWN, "member_id", register_member(api, "cust-own"))
    monkeypatch.setitem(OTHER, "member_id", register_member(api, "cust-other"))
    return api


def test_every_route_on_the_app_has_a_row_in_the_matrix_and_no_row_is_stale():
    on_app = {(m, path) for path, methods in app.routes.items() for m in methods if m != "OPTIONS"}
    assert on_app - set(access.MATRIX) == set(), "routes with no authorization row"
    assert set(access.MATRIX) - on_app == set(), "matrix rows for routes that do not exist"


def test_every_cell_names_a_known_role_and_scope():
    for key, rule in access.MATRIX.items():
        assert rule.allowed, key
        assert set(rule.allowed) <= set(access.ROLES), key
        assert set(rule.allowed.values()) <= {access.ALL, access.OWN}, key
        if access.OWN in rule.allowed.values() and rule.owner:
            assert "{" + rule.owner + "}" in key[1], key


@pytest.mark.parametrize("method,path", sorted(access.MATRIX), ids=lambda v: v)
def test_each_role_gets_exactly_what_its_matrix_row_allows(two_partners, method, path):
    rule = access.MATRIX[(method, path)]
    for role in access.ROLES:
        r = call(two_partners, method, path, role, OWN)
        if role in rule.allowed or rule.public:
            assert r.status_code not in (401, 403), (role, r.status_code, r.body)
            assert r.status_code < 500, (role, r.status_code, r.body)
        else:
            # No identity: 401. A token, or a signature where a token is needed: 403.
            assert r.status_code == (401 if role == access.ANONYMOUS else 403), (role, r.status_code, r.body)
            assert error_code(r) in REFUSALS, (role, r.body)


@pytest.mark.parametrize("method,path", sorted(k for k, v in access.MATRIX.items() if v.owner),
                         ids=lambda v: v)
def test_a_caller_limited_to_its_own_records_is_refused_anothers_and_admin_sees_all(two_partners, method, path):
    rule = access.MATRIX[(method, path)]
    for role, scope in rule.allowed.items():
        other = call(two_partners, method, path, role, OTHER)
        if scope == access.OWN:
            assert other.status_code == 403, (role, other.status_code, other.body)
            assert error_code(other) == "forbidden"
        else:
            assert other.status_code not in (401, 403), (role, other.status_code, other.body)


def test_a_partner_reading_another_partners_earnings_sees_nothing_of_them(two_partners):
    p = Program(two_partners)
    p.publish_plan()
    assert p.order("o-b", 10_000, referral_code="OTHB").status_code == 201
    r = two_partners.http.get("/partners/P-OTHB/commissions", headers=auth("partner", "P-OWNA"))
    assert r.status_code == 403 and b"o-b" not in r.body
    mine = json.loads(two_partners.http.get("/partners/P-OWNA/commissions",
                                            headers=auth("partner", "P-OWNA")).body)
    assert mine["entries"] == []


def test_a_partner_token_cannot_forge_a_webhook_and_a_signature_opens_no_admin_route(two_partners):
    body = dumps({"order_id": "x"})
    r = two_partners.http.post("/webhooks/orders", headers=auth("partner", "P-OWNA"), body=body)
    assert r.status_code == 403
    r = two_partners.http.post("/partners", headers=signed_headers(body), body=body)
    assert r.status_code == 403 and error_code(r) == "forbidden_role"


def test_a_route_missing_from_the_matrix_is_refused_for_everyone(monkeypatch, two_partners):
    trimmed = {k: v for k, v in access.MATRIX.items() if k != ("GET", "/me")}
    monkeypatch.setattr(access, "MATRIX", trimmed)
    r = two_partners.http.get("/me", headers=auth("admin"))
    assert r.status_code == 403 and error_code(r) == "route_not_authorized"


def test_a_public_route_ignores_a_bad_token(two_partners):
    r = two_partners.http.get("/openapi.json", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 200


def test_me_names_the_portal_pages_the_matrix_lets_each_role_use_and_follows_a_change_to_it(two_partners,
                                                                                           monkeypatch):
    def pages(headers) -> list[str]:
        r = two_partners.http.get("/me", headers=headers)
        assert r.status_code == 200, r.body
        return json.loads(r.body)["pages"]

    assert pages(auth("partner", "P-OWNA")) == ["partner"]
    assert pages(auth("finance")) == ["finance"]
    assert pages(auth("admin")) == ["admin", "finance"]
    # The matrix is the one source: take finance's right to run settlements away and its page goes.
    key = ("POST", "/settlements/run")
    rule = access.MATRIX[key]
    monkeypatch.setattr(access, "MATRIX", {**access.MATRIX, key: access.Rule(
        {r: s for r, s in rule.allowed.items() if r != "finance"}, rule.owner, rule.summary, rule.kind)})
    assert pages(auth("finance")) == []
