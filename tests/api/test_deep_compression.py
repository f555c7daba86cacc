"""Compression past the stored upline: the next active ancestor takes the level however far up it is.

Each partner stores only its nearest UPLINE_MAX_DEPTH (10) ancestors. When inactive partners fill
that snapshot, the order reads further up (docs/rules.md, "Compression").
"""
import pytest

from chalicelib import bootstrap
from chalicelib.services import partners as partner_svc
from tests.support.helpers import auth, dumps
from tests.support.program import Program, credited, past_the_fence

FIVE_LEVELS = {"levels_bps": [1000, 500, 300, 200, 100], "effective_from": "2020-01-01T00:00:00Z"}
TOP = ["TOP01", "TOP02", "TOP03", "TOP04"]  # active, the root first
IDLE = [f"IDLE{i}" for i in range(1, 9)]  # inactive
LEAF = "LEAF1"


@pytest.fixture
def program(api_any, monkeypatch):
    p = Program(api_any)
    p.publish_plan(FIVE_LEVELS)
    p.chain([*TOP, *IDLE, LEAF])
    for code in IDLE:
        r = p.c.post(f"/admin/partners/P-{code}/status", headers=auth("admin"), body=dumps({"status": "inactive"}))
        assert r.status_code == 200, r.body
    past_the_fence(monkeypatch)  # the statuses take effect
    return p


def test_five_levels_are_paid_when_eight_inactive_ancestors_fill_the_stored_upline(program):
    # The leaf's hint names IDLE8..IDLE1, TOP04, TOP03: three active partners. TOP02 and TOP01 lie above.
    uow = bootstrap.uow()
    assert partner_svc.get(uow, f"P-{LEAF}").upline_ids[-2:] == ("P-TOP04", "P-TOP03")
    r = program.order("o1", 100_000, referral_code=LEAF)
    assert r.status_code == 201, r.body
    assert credited(r) == {"P-LEAF1": 10_000, "P-TOP04": 5_000, "P-TOP03": 3_000, "P-TOP02": 2_000,
                           "P-TOP01": 1_000}


def test_a_status_change_above_the_stored_upline_takes_effect_at_its_instant(program, monkeypatch):
    """TOP02 lies past the leaf's hint: the walk reads it from TOP03's own item, at the order's instant."""
    r = program.c.post("/admin/partners/P-TOP02/status", headers=auth("admin"), body=dumps({"status": "inactive"}))
    assert r.status_code == 200, r.body
    before = program.order("o0", 100_000, referral_code=LEAF)
    assert credited(before) == {"P-LEAF1": 10_000, "P-TOP04": 5_000, "P-TOP03": 3_000, "P-TOP02": 2_000,
                                "P-TOP01": 1_000}
    past_the_fence(monkeypatch)
    r = program.order("o1", 100_000, referral_code=LEAF)
    assert credited(r) == {"P-LEAF1": 10_000, "P-TOP04": 5_000, "P-TOP03": 3_000, "P-TOP01": 2_000}


def test_a_move_above_the_stored_upline_takes_effect_at_its_instant(program, monkeypatch):
    """TOP03 moves under NEW (a new root): orders before the move's instant pay the old tree, orders
    after it the new one, though the leaf's hint still names the old ancestors above TOP03."""
    program.enrol("NEW")
    r = program.c.post("/admin/partners/P-TOP03/move", headers=auth("admin"), body=dumps({"new_sponsor_code": "NEW"}))
    assert r.status_code == 200, r.body
    assert credited(program.order("o0", 100_000, referral_code=LEAF)) == {
        "P-LEAF1": 10_000, "P-TOP04": 5_000, "P-TOP03": 3_000, "P-TOP02": 2_000, "P-TOP01": 1_000}
    past_the_fence(monkeypatch)
    r = program.order("o1", 100_000, referral_code=LEAF)
    assert r.status_code == 201, r.body
    # Above TOP03 there is now only NEW: four levels are paid and the fifth has no one to take it.
    assert credited(r) == {"P-LEAF1": 10_000, "P-TOP04": 5_000, "P-TOP03": 3_000, "P-NEW": 2_000}
