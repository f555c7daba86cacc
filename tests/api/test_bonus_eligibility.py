"""Bonuses and ranks follow the rule compression follows: only partners active at the period's close
take part, while every partner's sales count towards its upline's team volume (docs/rules.md)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.store.files import FolderFiles
from tests.support.helpers import auth, dumps
from tests.support.program import ledger_items, past_the_fence
from tests.support.settlement import AFTER_AUG_LOCK, BONUS_PLAN, Clock, Settling

UTC = timezone.utc
RANKED_PLAN = {**BONUS_PLAN, "bonus": {**BONUS_PLAN["bonus"], "ranks": [
    {"rank": "gold", "min_personal_minor": 5_000_000},  # D's 62,000.00 would reach it
    {"rank": "leader", "min_team_minor": 5_000_000},  # C's team volume reaches it with D's sales
]}}


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2026, 8, 10, 12, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", c)
    return c


@pytest.fixture
def program(api, clock, tmp_path):
    bootstrap.use_files(FolderFiles(tmp_path / "exports"))
    p = Settling(api, clock)
    p.worked_program(RANKED_PLAN)  # AAA <- BBB <- CCC <- DDD
    return p


def partner(program: Settling, code: str) -> dict:
    return json.loads(program.c.get(f"/partners/P-{code}", headers=auth("admin")).body)


def test_a_terminated_partner_with_62000_of_sales_earns_no_bonus_no_rank_and_no_payout(program, monkeypatch):
    r = program.c.post("/admin/partners/P-DDD/status", headers=auth("admin"), body=dumps({"status": "terminated"}))
    assert r.status_code == 200, r.body
    past_the_fence(monkeypatch)  # the termination takes effect
    sold = program.sell("o1", 6_200_000)  # through D's code: its commissions go to its upline
    assert {c["partner_id"] for c in sold["commissions"]} == {"P-CCC", "P-BBB", "P-AAA"}
    program.set_target("DDD", "2026-08", 4_000_000)

    progress = json.loads(program.c.get("/partners/P-DDD/progress", headers=auth("partner", "P-DDD")).body)
    assert (progress["earns_bonuses"], progress["estimated_bonus_total_minor"]) == (False, 0)

    program.clock.t = AFTER_AUG_LOCK
    dry = json.loads(program.run(dry_run=True).body)
    assert [x["partner_id"] for x in dry["bonuses"]] == []
    r = program.run()
    assert r.status_code == 200, r.body

    assert [i for i in ledger_items() if i["kind"] == "bonus"] == []
    past_the_fence(monkeypatch)  # the ranks set at the close take effect
    lines = program.lines("2026-08")
    assert "P-DDD/USD" not in lines  # nothing earned, nothing paid
    assert (lines["P-CCC/USD"]["commissions_minor"], lines["P-CCC/USD"]["bonuses_minor"]) == (620_000, 0)
    assert partner(program, "DDD")["rank"] == "base"  # 62,000.00 would have made it gold
    # D's sales still count towards its upline's team volume: C (team 62,000.00) becomes leader.
    assert partner(program, "CCC")["rank"] == "leader"


def test_a_partner_active_at_the_close_earns_its_bonus_though_it_was_inactive_mid_period(program, monkeypatch):
    """The status at the close decides, as the doc says; the same sales as above."""
    for status in ("inactive", "active"):
        program.c.post("/admin/partners/P-DDD/status", headers=auth("admin"), body=dumps({"status": status}))
        past_the_fence(monkeypatch)
        if status == "inactive":
            program.sell("o1", 6_200_000)
    program.clock.t = AFTER_AUG_LOCK
    assert program.run().status_code == 200
    past_the_fence(monkeypatch)  # the ranks set at the close take effect
    bonuses = {i["entry_id"]: i["amount_minor"] for i in ledger_items() if i["kind"] == "bonus"}
    assert bonuses == {"bonus#2026-08#threshold#P-DDD": 150_000}
    assert partner(program, "DDD")["rank"] == "gold"


def test_team_volume_counts_the_downline_to_the_full_stored_depth_and_no_further(api, clock, tmp_path):
    """Team volume counts tree levels, so `team_levels` (at most UPLINE_MAX_DEPTH, checked when a
    plan is published) never reaches past the upline each partner stores: the partner ten levels
    above a sale counts it, the one eleven levels above does not."""
    bootstrap.use_files(FolderFiles(tmp_path / "exports"))
    p = Settling(api, clock)
    p.worked_program({**BONUS_PLAN, "bonus": {"currency": "USD", "basis": "team", "team_levels": 10,
                                              "ladder": [{"threshold_minor": 1_000_000, "flat_minor": 20_000}]}})
    codes = [f"TV{i:02d}" for i in range(12)]  # TV00 at the top, TV11 eleven levels below it
    p.chain(codes)
    p.sell("o1", 1_000_000, code="TV11")
    p.clock.t = AFTER_AUG_LOCK
    assert p.run().status_code == 200
    earners = {i["partner_id"] for i in ledger_items() if i["kind"] == "bonus"}
    assert earners == {f"P-{c}" for c in codes[1:]}  # TV11 itself and the ten above it; not TV00
