"""The partner tree through the API: enrol, read, move, status, roles."""
import json
from datetime import timedelta

import pytest

from chalicelib import bootstrap
from tests.support.helpers import auth, dumps
from tests.support.program import Program, credited, past_the_fence, table_snapshot


@pytest.fixture
def program(api_any):
    p = Program(api_any)
    p.publish_plan()
    return p


def get(program, path, role="admin", partner=None):
    r = program.c.get(path, headers=auth(role, partner))
    return r.status_code, json.loads(r.body)


def test_enrolling_under_a_sponsor_code_builds_the_upline(program):
    program.chain(["AAA", "BBB", "CCC"])
    status, body = get(program, "/partners/P-CCC/upline")
    assert status == 200
    assert [(u["level"], u["partner_id"]) for u in body["upline"]] == [(1, "P-BBB"), (2, "P-AAA")]


def test_enrolment_is_idempotent_and_a_taken_code_conflicts(program):
    first = program.enrol("AAA")
    assert program.enrol("AAA") == first
    r = program.c.post("/partners", headers=auth("admin"), body=dumps({"name": "Other", "code": "AAA"}))
    assert r.status_code == 409 and json.loads(r.body)["error"]["code"] == "code_taken"


def test_unknown_sponsor_is_refused_and_writes_nothing(program):
    before = table_snapshot()
    r = program.c.post("/partners", headers=auth("admin"), body=dumps({"name": "X", "code": "XXX",
                                                                       "sponsor_code": "NOPE"}))
    assert r.status_code == 422 and json.loads(r.body)["error"]["code"] == "unknown_sponsor"
    assert table_snapshot() == before


def test_downline_by_level_with_counts(program):
    program.chain(["AAA", "BBB", "CCC"])
    program.enrol("BB2", "AAA")
    program.enrol("CC2", "BB2")
    program.enrol("CC3", "BB2")
    status, body = get(program, "/partners/P-AAA/downline")
    assert body["levels"] == [{"level": 1, "count": 2}, {"level": 2, "count": 3}] and body["total"] == 5
    status, body = get(program, "/partners/P-AAA/downline?level=2", "partner", "P-AAA")
    assert sorted(p["partner_id"] for p in body["partners"]) == ["P-CC2", "P-CC3", "P-CCC"]


def test_moving_a_partner_moves_its_downline_and_changes_who_earns_from_its_instant(program, monkeypatch):
    program.chain(["AAA", "BBB", "CCC", "DDD"])
    program.enrol("ZZZ")
    r = program.c.post("/admin/partners/P-CCC/move", headers=auth("admin"), body=dumps({"new_sponsor_code": "ZZZ"}))
    moved = json.loads(r.body)
    assert r.status_code == 200 and moved["sponsor_id"] == "P-BBB"  # still, until the move takes effect
    assert [c["sponsor_id"] for c in moved["scheduled"]] == ["P-ZZZ"]
    assert credited(program.order("o0", 12000, referral_code="DDD")) == {"P-DDD": 1200, "P-CCC": 600,
                                                                          "P-BBB": 240}
    past_the_fence(monkeypatch)
    _, up = get(program, "/partners/P-DDD/upline")
    assert [u["partner_id"] for u in up["upline"]] == ["P-CCC", "P-ZZZ"]
    _, down = get(program, "/partners/P-ZZZ/downline")
    assert down["levels"] == [{"level": 1, "count": 1}, {"level": 2, "count": 1}]
    _, old = get(program, "/partners/P-AAA/downline")
    assert old["levels"] == [{"level": 1, "count": 1}]
    assert credited(program.order("o1", 12000, referral_code="DDD")) == {"P-DDD": 1200, "P-CCC": 600,
                                                                          "P-ZZZ": 240}


def test_a_move_that_would_make_a_cycle_is_refused_with_409(program):
    program.chain(["AAA", "BBB", "CCC", "DDD"])
    before = table_snapshot()
    for target in ("DDD", "BBB"):
        r = program.c.post("/admin/partners/P-BBB/move", headers=auth("admin"),
                           body=dumps({"new_sponsor_code": target}))
        assert r.status_code == 409 and json.loads(r.body)["error"]["code"] == "cycle"
    assert table_snapshot() == before


def test_a_cycle_is_caught_even_below_the_stored_upline_depth(program):
    codes = [f"N{i:02d}" for i in range(14)]
    program.chain(codes)
    r = program.c.post("/admin/partners/P-N01/move", headers=auth("admin"),
                       body=dumps({"new_sponsor_code": "N13"}))
    assert r.status_code == 409


def test_a_status_change_applies_to_every_order_below_the_partner_from_its_instant(program, monkeypatch):
    """Nothing is copied into the downline: each order reads each ancestor's own standing at its
    instant, so the change reaches every descendant's orders at once, when it takes effect."""
    program.chain(["AAA", "BBB", "CCC", "DDD"])
    r = program.c.post("/admin/partners/P-BBB/status", headers=auth("admin"), body=dumps({"status": "terminated"}))
    assert r.status_code == 200 and json.loads(r.body)["scheduled"][0]["status"] == "terminated"
    assert credited(program.order("o0", 10000, referral_code="DDD")) == {"P-DDD": 1000, "P-CCC": 500,
                                                                          "P-BBB": 200}
    past_the_fence(monkeypatch)
    _, up = get(program, "/partners/P-DDD/upline")
    assert [u["status"] for u in up["upline"]] == ["active", "terminated", "active"]
    assert credited(program.order("o1", 10000, referral_code="DDD")) == {"P-DDD": 1000, "P-CCC": 500,
                                                                          "P-AAA": 200}


def test_a_status_change_asked_for_sooner_than_the_fence_is_refused_and_writes_nothing(program):
    program.chain(["AAA", "BBB"])
    before = table_snapshot()
    soon = (bootstrap.now() + timedelta(seconds=10)).isoformat()
    r = program.c.post("/admin/partners/P-BBB/status", headers=auth("admin"),
                       body=dumps({"status": "inactive", "effective_at": soon}))
    assert 400 <= r.status_code < 500 and json.loads(r.body)["error"]["code"]
    assert table_snapshot() == before


def test_partners_see_only_their_own_records(program):
    program.chain(["AAA", "BBB"])
    for path in ("/partners/P-AAA", "/partners/P-AAA/commissions", "/partners/P-AAA/downline",
                 "/partners/P-AAA/links", "/partners/P-AAA/clicks", "/partners/P-AAA/upline"):
        status, body = get(program, path, "partner", "P-BBB")
        assert status == 403 and body["error"]["code"] == "forbidden", path
        assert get(program, path, "partner", "P-AAA")[0] == 200


@pytest.mark.parametrize("role", ["partner", "finance", "member"])
def test_admin_endpoints_need_the_admin_role(program, role):
    program.enrol("AAA")
    calls = [("/partners", {"name": "X", "code": "XXX"}), ("/admin/plans", {"levels_bps": [100]}),
             ("/admin/partners/P-AAA/status", {"status": "inactive"}),
             ("/admin/partners/P-AAA/move", {"new_sponsor_code": "AAA"})]
    for path, body in calls:
        r = program.c.post(path, headers=auth(role, "P-AAA"), body=dumps(body))
        assert r.status_code == 403, path


def test_no_token_or_a_forged_token_is_401(program):
    program.enrol("AAA")
    assert program.c.get("/partners/P-AAA").status_code == 401
    r = program.c.get("/partners/P-AAA", headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."})
    assert r.status_code == 401 and json.loads(r.body)["error"]["code"] == "unauthorized"
