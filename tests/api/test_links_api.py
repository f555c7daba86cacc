"""Links and the redirect."""
import json

import pytest

from tests.support.helpers import auth, dumps
from tests.support.program import Program, table_snapshot


@pytest.fixture
def program(api_any):
    p = Program(api_any)
    p.enrol("AAA")
    return p


def test_following_a_link_redirects_with_a_click_id_and_sets_the_attribution_cookie(program):
    code = program.link("AAA", "https://shop.example.com/shoes?size=42")
    r = program.c.get(f"/r/{code}", headers={"User-Agent": "Mozilla/5.0"})
    assert r.status_code == 302
    location = r.headers["Location"]
    assert location.startswith("https://shop.example.com/shoes?size=42&upline_click=c_")
    click_id = location.split("upline_click=")[1]
    assert f"upline_click={click_id}" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]


def test_a_click_is_stored_with_hashed_ip_and_agent_and_a_ttl(program):
    code = program.link("AAA")
    program.c.get(f"/r/{code}", headers={"User-Agent": "Mozilla/5.0 secret-agent"})
    clicks = [i for i in table_snapshot() if i["PK"].startswith("CLICK#")]
    assert len(clicks) == 1
    click = clicks[0]
    assert click["partner_id"] == "P-AAA" and click["expires_at"] > 0
    assert "secret-agent" not in json.dumps(click) and len(click["ip_hash"]) == 40
    listed = json.loads(program.c.get("/partners/P-AAA/clicks", headers=auth("partner", "P-AAA")).body)
    assert [c["click_id"] for c in listed["clicks"]] == [click["click_id"]]


def test_a_partner_code_works_as_a_link_to_the_default_destination(program):
    r = program.c.get("/r/AAA")
    assert r.status_code == 302 and r.headers["Location"].startswith("https://shop.example.com/?upline_click=")


def test_unknown_codes_are_404_with_the_error_shape_and_no_click(program):
    before = table_snapshot()
    for code in ("NOPE", "x" * 40, "%3Cscript%3E"):
        r = program.c.get(f"/r/{code}")
        assert r.status_code == 404 and json.loads(r.body)["error"]["code"] == "not_found"
    assert table_snapshot() == before


@pytest.mark.parametrize("destination", ["https://evil.example.net/", "http://shop.example.com/",
                                         "https://shop.example.com.evil.net/x"])
def test_links_off_the_allow_list_are_refused(program, destination):
    before = table_snapshot()
    r = program.c.post("/links", headers=auth("partner", "P-AAA"), body=dumps({"destination": destination}))
    assert r.status_code == 400
    assert json.loads(r.body)["error"]["code"] in ("invalid_destination", "destination_not_allowed")
    assert table_snapshot() == before


def test_a_custom_link_code_is_unique_across_links_and_partners(program):
    r = program.c.post("/links", headers=auth("partner", "P-AAA"),
                       body=dumps({"destination": "https://shop.example.com/", "code": "AAA"}))
    assert r.status_code == 409
    body = dumps({"destination": "https://shop.example.com/", "code": "SPRING"})
    assert program.c.post("/links", headers=auth("partner", "P-AAA"), body=body).status_code == 201
    assert program.c.post("/links", headers=auth("partner", "P-AAA"), body=body).status_code == 201  # a retry
    links = json.loads(program.c.get("/partners/P-AAA/links", headers=auth("partner", "P-AAA")).body)["links"]
    assert [x["code"] for x in links] == ["SPRING"]
