"""Compression past the stored upline: the next active ancestor takes the level however far up it is.

Each partner stores only its nearest UPLINE_MAX_DEPTH (10) ancestors. When inactive partners fill
that snapshot, the order reads further up (docs/rules.md, "Compression").
"""
import pytest

from chalicelib.services import partners as partner_svc
from tests.support.helpers import auth, dumps
from tests.support.program import Program, credited

FIVE_LEVELS = {"levels_bps": [1000, 500, 300, 200, 100], "effective_from": "2020-01-01T00:00:00Z"}
TOP = ["TOP01", "TOP02", "TOP03", "TOP04"]  # active, the root first
IDLE = [f"IDLE{i}" for i in range(1, 9)]  # inactive
LEAF = "LEAF1"


@pytest.fixture
def program(api_any):
    p = Program(api_any)
    p.publish_plan(FIVE_LEVELS)
    p.chain([*TOP, *IDLE, LEAF])
    for code in IDLE:
        r = p.c.post(f"/admin/partners/P-{code}/status", headers=auth("admin"), body=dumps({"status": "inactive"}))
        assert r.status_code == 200, r.body
    return p


def test_five_levels_are_paid_when_eight_inactive_ancestors_fill_the_stored_upline(program, wired_any):
    # The leaf stores IDLE8..IDLE1, TOP04, TOP03: three active partners. TOP02 and TOP01 lie above.
    assert [n.partner_id for n in wired_any.get_partner(f"P-{LEAF}").upline][-2:] == ["P-TOP04", "P-TOP03"]
    r = program.order("o1", 100_000, referral_code=LEAF)
    assert r.status_code == 201, r.body
    assert credited(r) == {"P-LEAF1": 10_000, "P-TOP04": 5_000, "P-TOP03": 3_000, "P-TOP02": 2_000,
                           "P-TOP01": 1_000}


def test_a_stale_status_above_the_stored_upline_never_pays_an_inactive_partner(program, wired_any):
    """TOP02 is made inactive but the copies in its downline's snapshots are not refreshed yet: the
    order's transaction checks the live status, fails, and the retry reads it live."""
    wired_any.set_status("P-TOP02", "inactive", "base")
    top03 = wired_any.get_partner("P-TOP03")
    assert top03.upline[0].status == "active"  # the stale copy the extension reads first
    r = program.order("o1", 100_000, referral_code=LEAF)
    assert credited(r) == {"P-LEAF1": 10_000, "P-TOP04": 5_000, "P-TOP03": 3_000, "P-TOP01": 2_000}


def test_a_move_above_the_stored_upline_between_read_and_write_is_paid_on_the_new_tree(program, wired_any,
                                                                                       monkeypatch):
    """TOP03's snapshot is read to extend the chain; TOP03 then moves under NEW (a new root). The
    order's transaction checks TOP03's tree_version, fails, and pays on the tree as it now is."""
    program.enrol("NEW")
    real = partner_svc.upline_for_levels
    moved = []

    def read_then_move(*args, **kwargs):
        upline = real(*args, **kwargs)
        if not moved:
            assert "P-TOP03" in upline.read_through
            partner_svc.move(wired_any, "P-TOP03", "NEW", 10)
            moved.append(True)
        return upline

    monkeypatch.setattr(partner_svc, "upline_for_levels", read_then_move)
    r = program.order("o1", 100_000, referral_code=LEAF)
    assert moved and r.status_code == 201, r.body
    # Above TOP03 there is now only NEW: four levels are paid and the fifth has no one to take it.
    assert credited(r) == {"P-LEAF1": 10_000, "P-TOP04": 5_000, "P-TOP03": 3_000, "P-NEW": 2_000}

