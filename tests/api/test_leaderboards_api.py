"""Leaderboards through the API: the scheduled job builds them from the projected figures; a partner
sees the top rows with names masked and its own rank; ties are ordered deterministically; opting out
takes a partner off the boards; staff see every row."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from tests.support.helpers import auth, dumps
from tests.support.program import project_figures
from tests.support.settlement import Clock, Settling

UTC = timezone.utc
AUG = datetime(2026, 8, 10, 12, tzinfo=UTC)
PLAN = {"levels_bps": [1000, 500], "cap_bps": 2000, "holding_days": 0, "effective_from": "2026-08-01T00:00:00Z"}
# (code, name, sponsor, sales in USD minor units this period)
TREE = [("ROOT", "王小明", None, 0), ("BEE", "Beatrice", "ROOT", 30_000), ("CAT", "陈静", "ROOT", 50_000),
        ("DOG", "Émile", "BEE", 30_000), ("EEL", "欧阳娜娜", "CAT", 10_000)]


@pytest.fixture
def board(api_any, monkeypatch):
    clock = Clock(AUG)
    monkeypatch.setattr(bootstrap, "now", clock)
    p = Settling(api_any, clock)
    p.publish_plan(PLAN)
    for code, name, sponsor, _ in TREE:
        p.enrol(code, sponsor, name=name)
    n = 0
    for code, _, _, sales in TREE:
        for part in (sales // 2, sales - sales // 2) if sales else ():
            n += 1
            p.sell(f"lb{n}", part, code=code, customer=f"cust-lb{n}")
    project_figures()
    clock.t += timedelta(minutes=5)
    return p


def refresh(api) -> dict:
    """The scheduled job, as EventBridge invokes it."""
    r = api.lambda_.invoke("refresh_leaderboards", api.events.generate_cw_event("Scheduled Event", "aws.events", {}, []))
    assert r.payload and "built" in r.payload, r
    return r.payload["built"]


def view(api, code: str, board: str = "partner_sales", **q) -> dict:
    params = "&".join(f"{k}={v}" for k, v in {"board": board, "period": "2026-08", **q}.items())
    r = api.http.get(f"/partners/P-{code}/leaderboard?{params}", headers=auth("partner", f"P-{code}"))
    assert r.status_code == 200, r.body
    return json.loads(r.body)


def test_a_partner_sees_the_top_with_names_masked_and_its_own_rank(board, api_any):
    refresh(api_any)
    v = view(api_any, "EEL")
    # CAT 500.00; BEE and DOG tie at 300.00 (the id decides: P-BEE before P-DOG); EEL 100.00.
    assert [(r["rank"], r["name"], r["amount"], r["you"]) for r in v["top"]] == [
        (1, "陈*", 50_000, False), (2, "B*", 30_000, False), (3, "É*", 30_000, False), (4, "欧*", 10_000, True)]
    assert v["you"] == {"rank": 4, "amount": 10_000} and v["size"] == 4 and v["currency"] == "USD"
    assert view(api_any, "ROOT")["you"] is None  # sold nothing: not on the board
    assert [r["name"] for r in view(api_any, "EEL", top=2)["top"]] == ["陈*", "B*"]


def test_team_sales_and_recruits_boards(board, api_any):
    refresh(api_any)
    team = view(api_any, "ROOT", "partner_team_sales")
    # ROOT: everyone's 1,200.00; CAT: its 500.00 + EEL's 100.00; BEE: 300.00 + DOG's 300.00 (P-BEE < P-CAT).
    assert [(r["name"], r["amount"]) for r in team["top"]] == [
        ("王*", 120_000), ("B*", 60_000), ("陈*", 60_000), ("É*", 30_000), ("欧*", 10_000)]
    assert team["you"] == {"rank": 1, "amount": 120_000}
    recruits = view(api_any, "CAT", "partner_recruits")
    assert recruits["currency"] == "XXX"
    # ROOT recruited two this period, BEE and CAT one each; CAT's came after BEE's (enrolled later).
    assert [(r["name"], r["amount"]) for r in recruits["top"]] == [("王*", 2), ("B*", 1), ("陈*", 1)]
    assert recruits["you"] == {"rank": 3, "amount": 1}


def test_opting_out_takes_a_partner_off_the_board_from_the_next_build(board, api_any):
    r = api_any.http.put("/partners/P-CAT/preferences", headers=auth("partner", "P-CAT"),
                         body=dumps({"leaderboard_opt_out": True}))
    assert r.status_code == 200, r.body
    refresh(api_any)
    assert view(api_any, "CAT")["you"] is None
    v = view(api_any, "EEL")
    assert [r["name"] for r in v["top"]] == ["B*", "É*", "欧*"] and v["you"]["rank"] == 3
    back = api_any.http.put("/partners/P-CAT/preferences", headers=auth("partner", "P-CAT"),
                            body=dumps({"leaderboard_opt_out": False}))
    assert back.status_code == 200
    refresh(api_any)
    assert view(api_any, "CAT")["you"] == {"rank": 1, "amount": 50_000}


def test_a_partner_may_not_opt_another_out_or_read_its_view(board, api_any):
    other = api_any.http.put("/partners/P-CAT/preferences", headers=auth("partner", "P-EEL"),
                             body=dumps({"leaderboard_opt_out": True}))
    assert other.status_code == 403
    assert api_any.http.get("/partners/P-CAT/leaderboard", headers=auth("partner", "P-EEL")).status_code == 403
    bad = api_any.http.put("/partners/P-CAT/preferences", headers=auth("partner", "P-CAT"),
                           body=dumps({"leaderboard_opt_out": "yes"}))
    assert bad.status_code == 400


def test_staff_see_every_row_with_the_name_and_how_it_is_shown(board, api_any):
    refresh(api_any)
    r = api_any.http.get("/admin/leaderboards/partner_sales?period=2026-08&currency=USD", headers=auth("finance"))
    assert r.status_code == 200, r.body
    rows = json.loads(r.body)["rows"]
    assert [(x["rank"], x["id"], x["name"], x["shown_as"]) for x in rows] == [
        (1, "P-CAT", "陈静", "陈*"), (2, "P-BEE", "Beatrice", "B*"), (3, "P-DOG", "Émile", "É*"),
        (4, "P-EEL", "欧阳娜娜", "欧*")]
    assert api_any.http.get("/admin/leaderboards/partner_sales", headers=auth("partner", "P-CAT")).status_code == 403
    assert api_any.http.get("/admin/leaderboards/nope", headers=auth("admin")).status_code == 400


def test_a_board_not_built_yet_is_empty_for_a_partner_and_for_staff(board, api_any):
    assert view(api_any, "CAT")["top"] == []
    r = api_any.http.get("/admin/leaderboards/partner_sales?period=2026-08", headers=auth("admin"))
    assert r.status_code == 200
    assert (json.loads(r.body)["rows"], json.loads(r.body)["built_at"]) == ([], None)


def test_a_rebuild_with_nothing_changed_gives_the_same_board(board, api_any):
    refresh(api_any)
    first = view(api_any, "EEL")
    refresh(api_any)  # the other slot this time
    again = view(api_any, "EEL")
    assert (first["top"], first["you"]) == (again["top"], again["you"])


def test_members_rank_by_successful_invites_with_the_code_masked_and_may_opt_out(api_any, monkeypatch):
    from tests.support.members import Clock as MemberClock
    from tests.support.members import Members

    m = Members(api_any, MemberClock(monkeypatch))
    m.publish_plan()
    m.publish_rewards()
    for name in ("ann", "cal"):
        m.register(name)
    for friend, inviter in (("bob", "ann"), ("dee", "ann"), ("eve", "cal")):
        m.register(friend, invite_from=inviter)
        m.buy(friend, f"{friend}-1", 4_000)
    m.clock.advance(days=15)  # past the holding: the invites are successful once their rewards are earned
    daily = api_any.lambda_.invoke("members_daily", api_any.events.generate_cw_event("x", "aws.events", {}, []))
    assert daily.payload is not None  # the members' daily job wrote the earned rewards, and so the invites
    refresh(api_any)

    def board(name: str) -> dict:
        r = api_any.http.get(f"/members/{m.ids[name]}/leaderboard", headers=m.me(name))
        assert r.status_code == 200, r.body
        return json.loads(r.body)

    v = board("cal")
    assert [(r["rank"], r["name"], r["amount"], r["you"]) for r in v["top"]] == [
        (1, m.codes["ann"][0] + "*", 2, False), (2, m.codes["cal"][0] + "*", 1, True)]
    assert v["you"] == {"rank": 2, "amount": 1}
    out = api_any.http.put(f"/members/{m.ids['ann']}/preferences", headers=m.me("ann"),
                           body=dumps({"leaderboard_opt_out": True}))
    assert out.status_code == 200, out.body
    refresh(api_any)
    assert board("ann")["you"] is None and board("cal")["you"] == {"rank": 1, "amount": 1}
    assert api_any.http.get(f"/members/{m.ids['ann']}/leaderboard", headers=m.me("cal")).status_code == 403


def test_an_unknown_currency_or_board_is_a_400(board, api_any):
    for q in ("board=partner_sales&currency=XYZ", "board=partner_clicks", "board=member_invites", "period=2026-13"):
        r = api_any.http.get(f"/partners/P-CAT/leaderboard?{q}", headers=auth("partner", "P-CAT"))
        assert r.status_code == 400, (q, r.body)
