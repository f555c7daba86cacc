"""The redirect end to end: a link's destination is checked as a browser reads it, stored in its
canonical form, and the `Location` header is built from it; no destination gets a 5xx."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import ada_url
import pytest
from hypothesis import HealthCheck, given, settings

from chalicelib import bootstrap
from chalicelib.domain import urls
from chalicelib.domain.links import CLICK_PARAM, LINK, CodeRef
from tests.support.helpers import auth, dumps
from tests.support.program import Program, table_snapshot
from tests.support.urls import ALLOWED, REPORTED, destinations


@pytest.fixture
def program(api):
    p = Program(api)
    p.enrol("AAA")
    return p


def create(program: Program, destination: str):
    return program.c.post("/links", headers=auth("partner", "P-AAA"), body=dumps({"destination": destination}))


def location_host(location: str) -> str:
    return ada_url.URL(location).hostname


@pytest.mark.parametrize("destination", REPORTED)
def test_the_reported_destinations_are_refused_with_the_error_shape_and_write_nothing(program, destination):
    before = table_snapshot()
    r = create(program, destination)
    assert r.status_code == 400, r.body
    assert json.loads(r.body)["error"]["code"] in ("invalid_destination", "destination_not_allowed")
    assert table_snapshot() == before


def test_a_link_is_stored_and_answered_in_its_canonical_form_and_the_redirect_sends_exactly_that(program):
    r = create(program, "HTTPS://Shop.Example.com:443/shoes size?colour=bl\u00fc#top")
    assert r.status_code == 201, r.body
    link = json.loads(r.body)
    assert link["destination"] == "https://shop.example.com/shoes%20size?colour=bl%C3%BC#top"
    stored = next(i for i in table_snapshot() if i["PK"] == f"CODE#{link['code']}")
    assert stored["destination"] == link["destination"]
    location = program.c.get(f"/r/{link['code']}").headers["Location"]
    assert location.startswith("https://shop.example.com/shoes%20size?colour=bl%C3%BC&upline_click=c_")
    assert location.endswith("#top")


def test_a_link_stored_before_the_fix_that_leads_off_the_allow_list_sends_the_visitor_to_the_default(program):
    # What urlsplit let through: its host "ends" in the shop's domain; a browser goes to evil.com.
    bootstrap.repository().create_link(
        CodeRef("OLDEVIL", LINK, "P-AAA", "https://evil.com\\.shop.example.com/landing"),
        datetime(2026, 1, 1, tzinfo=timezone.utc))
    r = program.c.get("/r/OLDEVIL")
    assert r.status_code == 302
    assert location_host(r.headers["Location"]) == "shop.example.com"
    assert r.headers["Location"].startswith(bootstrap.settings().default_destination + "?upline_click=c_")


def test_the_invite_redirect_is_built_by_the_same_parser(api, monkeypatch):
    from tests.support.members import Clock, Members

    monkeypatch.setattr(bootstrap.settings(), "default_destination",
                        "https://shop.example.com/join?ref=a&upline_invite=forged#x")
    m = Members(api, Clock(monkeypatch))
    code = m.register("inv-1")["invite_code"]
    r = api.http.get(f"/i/{code}")
    assert r.status_code == 302
    assert r.headers["Location"] == f"https://shop.example.com/join?ref=a&upline_invite={code}#x"


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(destination=destinations())
def test_no_destination_gets_a_5xx_and_every_redirect_goes_to_an_allowed_host(program, destination):
    r = create(program, destination)
    assert r.status_code in (201, 400), (destination, r.status_code, r.body)
    if r.status_code == 400:
        assert set(json.loads(r.body)["error"]) == {"code", "message"}
        return
    link = json.loads(r.body)
    follow = program.c.get(f"/r/{link['code']}")
    assert follow.status_code == 302, follow.body
    location = follow.headers["Location"]
    assert urls.within(location_host(location), ALLOWED), (destination, location)
    parsed = ada_url.URL(location)
    assert parsed.protocol == "https:" and not parsed.username and not parsed.password
    assert ada_url.URLSearchParams(parsed.search).get_all(CLICK_PARAM)[-1].startswith("c_")
