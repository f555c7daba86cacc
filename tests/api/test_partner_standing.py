"""A partner's or member's token acts only for an account that exists, and only as far as that
account's status allows (api/access.STANDING, checked by the authorization layer before any
handler); link creation has a total and a rate per partner."""
from __future__ import annotations

import json
import re

import pytest

from chalicelib import bootstrap
from chalicelib.api import access
from tests.support.helpers import DynamoCalls, auth, dumps
from tests.support.program import Program, past_the_fence

PARAMS = {"period": "2026-07", "partner_id": "P-ANN"}


def error_code(r) -> str | None:
    try:
        return json.loads(r.body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def started(client) -> Program:
    p = Program(client)
    p.publish_plan()
    p.enrol("ANN")
    return p


@pytest.fixture
def program(api) -> Program:
    return started(api)


@pytest.fixture
def program_any(api_any) -> Program:
    """On moto and on DynamoDB Local (which reports a cancelled transaction's reasons as AWS does)."""
    return started(api_any)


def set_status(p: Program, partner: str, status: str) -> None:
    r = p.c.post(f"/admin/partners/{partner}/status", headers=auth("admin"), body=dumps({"status": status}))
    assert r.status_code == 200, r.body


def new_link(p: Program, partner: str = "P-ANN", **body):
    return p.c.post("/links", headers=auth("partner", partner),
                    body=dumps({"destination": "https://shop.example.com/p", **body}))


PARTNER_ROWS = sorted(k for k, v in access.MATRIX.items() if access.PARTNER in v.allowed and not v.public)


@pytest.mark.parametrize("status", ["active", "inactive", "terminated"])
def test_each_partner_status_is_refused_exactly_the_kinds_of_action_its_standing_does_not_allow(program, status):
    set_status(program, "P-ANN", status)
    for method, path in PARTNER_ROWS:
        rule = access.MATRIX[(method, path)]
        url = re.sub(r"{(\w+)}", lambda m: PARAMS[m.group(1)], path)
        body = dumps({"destination": "https://shop.example.com/p"}) if method == "POST" else b""
        r = program.c.request(method, url, headers=auth("partner", "P-ANN"), body=body)
        if rule.kind in access.STANDING[access.PARTNER][status]:
            assert r.status_code < 400 or error_code(r) not in ("account_status", "unknown_account"), \
                (status, path, r.status_code, r.body)
        else:
            assert r.status_code == 403 and error_code(r) == "account_status", (status, path, r.status_code, r.body)


def test_a_terminated_partner_creates_no_link_but_still_reads_its_ledger_payouts_and_statements(program):
    assert new_link(program).status_code == 201
    set_status(program, "P-ANN", "terminated")
    refused = new_link(program)
    assert refused.status_code == 403 and error_code(refused) == "account_status"
    assert "statements and payouts" in json.loads(refused.body)["error"]["message"]
    assert len(json.loads(program.c.get("/partners/P-ANN/links", headers=auth("admin")).body)["links"]) == 1
    for path in ("/partners/P-ANN/commissions", "/partners/P-ANN/payouts", "/partners/P-ANN/earnings",
                 "/partners/P-ANN", "/me"):
        assert program.c.get(path, headers=auth("partner", "P-ANN")).status_code == 200, path
    assert json.loads(program.c.get("/me", headers=auth("partner", "P-ANN")).body)["status"] == "terminated"
    for path in ("/partners/P-ANN/links", "/partners/P-ANN/clicks", "/partners/P-ANN/downline"):
        assert program.c.get(path, headers=auth("partner", "P-ANN")).status_code == 403, path


def test_a_reinstated_partner_works_again_once_the_reinstatement_takes_effect(program, monkeypatch):
    set_status(program, "P-ANN", "terminated")  # an account is closed at once
    assert new_link(program).status_code == 403
    set_status(program, "P-ANN", "active")  # and opened again when the change takes effect
    assert new_link(program).status_code == 403
    past_the_fence(monkeypatch)
    assert new_link(program).status_code == 201


def test_an_inactive_partner_may_still_create_links(program):
    set_status(program, "P-ANN", "inactive")
    assert new_link(program).status_code == 201


def test_a_token_naming_a_partner_that_does_not_exist_creates_no_link_and_reads_nothing(program):
    r = new_link(program, "P-GHOST", code="GHOSTLINK")
    assert r.status_code == 403 and error_code(r) == "unknown_account"
    assert program.c.get("/r/GHOSTLINK").status_code == 404
    for path in ("/me", "/partners/P-GHOST/commissions", "/partners/P-GHOST/payouts"):
        r = program.c.get(path, headers=auth("partner", "P-GHOST"))
        assert r.status_code == 403 and error_code(r) == "unknown_account", path


def test_a_partner_token_naming_no_partner_at_all_is_refused(program):
    r = new_link(program, None)
    assert r.status_code == 403 and error_code(r) == "unknown_account"


@pytest.mark.parametrize("named", ["P-" + "X" * 3000, "P-\u0000", " P-ANN"])
def test_a_token_naming_an_id_no_account_could_have_is_refused_without_a_read(program, moto_client, named):
    calls = DynamoCalls(moto_client)
    for headers in (auth("partner", named), auth("member", member_id=named)):
        r = program.c.get("/me", headers=headers)
        assert r.status_code == 403 and error_code(r) == "unknown_account", r.body
    assert calls.reads == 0


def test_a_member_token_naming_no_registered_member_is_refused(program):
    r = program.c.get("/me", headers=auth("member", member_id="M-0123456789abcdef0123"))
    assert r.status_code == 403 and error_code(r) == "unknown_account"


def test_staff_tokens_name_no_account_and_need_none(program):
    assert json.loads(program.c.get("/me", headers=auth("admin")).body)["status"] is None


def test_the_standing_check_is_one_read_and_the_click_redirect_and_order_webhook_gain_none(program, moto_client):
    code = program.link("ANN")
    calls = DynamoCalls(moto_client)
    assert program.c.get("/me", headers=auth("partner", "P-ANN")).status_code == 200
    assert dict(calls.ops) == {"GetItem": 1}

    program.follow(code)  # warms the process's code cache
    calls.reset()
    assert program.c.get(f"/r/{code}", headers=auth("partner", "P-ANN")).status_code == 302
    assert calls.reads == 0

    calls.reset()
    assert program.order("o-1", 10_000, referral_code="ANN").status_code == 201
    assert (calls.reads, calls.writes) == (2, 1)  # as before: the order path reads no caller account


# ---- link limits --------------------------------------------------------------------------------

@pytest.fixture
def limits(monkeypatch):
    def use(**env: str) -> None:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        bootstrap.settings.cache_clear()
    yield use
    bootstrap.settings.cache_clear()


def test_link_creation_past_the_partners_total_is_refused_with_422_and_counts_nothing(program_any, limits):
    program = program_any
    limits(UPLINE_LINK_LIMIT="3")
    for i in range(3):
        assert new_link(program, code=f"ANN-{i}").status_code == 201
    r = new_link(program, code="ANN-3")
    assert r.status_code == 422 and error_code(r) == "link_limit_reached", r.body
    assert program.c.get("/r/ANN-3").status_code == 404
    assert len(json.loads(program.c.get("/partners/P-ANN/links", headers=auth("partner", "P-ANN")).body)["links"]) == 3
    # a retry of a link that was created still answers as before: a retry is not a new link
    assert new_link(program, code="ANN-0").status_code == 201


def test_link_creation_past_the_rate_is_refused_with_429_until_the_next_window(program_any, limits, monkeypatch):
    program = program_any
    from datetime import datetime, timedelta, timezone

    at = datetime(2026, 8, 10, 12, 0, 5, tzinfo=timezone.utc)
    monkeypatch.setattr(bootstrap, "now", lambda: at)
    limits(UPLINE_LINK_RATE="2", UPLINE_LINK_WINDOW_SECONDS="3600")
    assert new_link(program).status_code == 201
    assert new_link(program).status_code == 201
    r = new_link(program)
    assert r.status_code == 429 and error_code(r) == "link_rate_limited", r.body
    assert int(r.headers["Retry-After"]) == 3600 - 5
    at += timedelta(hours=1)
    assert new_link(program).status_code == 201


def test_one_partners_link_limit_does_not_touch_anothers(program, limits):
    limits(UPLINE_LINK_LIMIT="1")
    program.enrol("BOB")
    assert new_link(program).status_code == 201
    assert new_link(program).status_code == 422
    assert new_link(program, "P-BOB").status_code == 201
