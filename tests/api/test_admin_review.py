"""What the admin screens need from the API: a plan's what-if preview (a sample order under the plan
in force and under a candidate, level by level, by the order path's own rule), the audit log
filtered by day, actor and action and read page by page, and the held-order queue with each hold's
reasons in words, released or rejected with the reviewer's reason."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest

from chalicelib import bootstrap
from chalicelib.store.files import FolderFiles
from tests.support.helpers import auth, dumps
from tests.support.program import table_snapshot
from tests.support.settlement import Clock, Settling

UTC = timezone.utc
PLAN = {"levels_bps": [1000, 500, 200], "cap_bps": 2000, "holding_days": 10, "min_payout_minor": 100,
        "effective_from": "2026-08-01T00:00:00Z"}


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2026, 8, 10, 12, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", c)
    return c


@pytest.fixture
def program(api_any, clock, tmp_path):
    """AAA at the top (enrolled with its email), BBB under it, CCC under BBB; the plan in force is PLAN."""
    bootstrap.use_files(FolderFiles(tmp_path / "exports"))
    p = Settling(api_any, clock)
    p.publish_plan(PLAN)
    p.enrol("AAA", email="boss@ring.example")
    p.enrol("BBB", "AAA")
    p.enrol("CCC", "BBB")
    return p


def preview(p: Settling, body: dict, who: str = "admin"):
    return p.c.post("/admin/plans/preview", headers=auth(who), body=dumps(body))


def half_even(amount_minor: int, bps: int) -> int:
    """docs/rules.md: each level's share is rounded half-even to the minor unit."""
    return int((Decimal(amount_minor) * bps / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def paid(body: dict, which: str) -> dict[int, int]:
    return {row["level"]: row[which]["amount_minor"] for row in body["levels"] if row[which]}


# ---- what-if -------------------------------------------------------------------------------------
def test_what_if_prices_a_sample_order_level_by_level_under_the_plan_in_force_and_the_candidate(program):
    candidate = {"levels_bps": [800, 400, 300, 100], "cap_bps": 2500}
    before = table_snapshot()
    r = preview(program, {**candidate, "sample": {"amount": "123.45", "currency": "USD", "partner_id": "P-CCC"}})
    assert r.status_code == 200, r.body
    body = json.loads(r.body)
    assert body["amount_minor"] == 12_345 and body["current_version"] == 1
    # The chain is CCC, BBB, AAA: three partners, so the candidate's fourth level pays no one.
    assert [row["current"]["partner_id"] for row in body["levels"][:3]] == ["P-CCC", "P-BBB", "P-AAA"]
    assert paid(body, "current") == {lvl: half_even(12_345, bps) for lvl, bps in enumerate(PLAN["levels_bps"], 1)}
    assert paid(body, "candidate") == {lvl: half_even(12_345, bps) for lvl, bps in enumerate([800, 400, 300], 1)}
    assert body["levels"][3] == {"level": 4, "current": None, "candidate": None}
    assert body["candidate_total_minor"] == sum(paid(body, "candidate").values())
    assert table_snapshot() == before  # a preview writes nothing, not even an audit record


def test_what_if_over_a_chain_depth_splits_a_binding_cap_by_largest_remainder(program):
    candidate = {"levels_bps": [5000, 4000, 3000], "cap_bps": 6000}
    r = preview(program, {**candidate, "sample": {"amount_minor": 1003, "currency": "USD", "depth": 3}})
    assert r.status_code == 200, r.body
    body = json.loads(r.body)
    # docs/rules.md: the cap rounds down, then splits in proportion to the exact shares; the units
    # left over go to the largest fractions, ties to the lower level.
    cap = int((Decimal(1003) * 6000 / 10_000).to_integral_value(rounding=ROUND_FLOOR))
    exact = [Fraction(cap * r, 12_000) for r in (5000, 4000, 3000)]
    parts = [int(x) for x in exact]
    for i in sorted(range(3), key=lambda i: (-(exact[i] - parts[i]), i))[: cap - sum(parts)]:
        parts[i] += 1
    assert paid(body, "candidate") == {1: parts[0], 2: parts[1], 3: parts[2]}
    assert all(row["candidate"]["capped"] for row in body["levels"])
    assert sum(parts) == cap == body["candidate_total_minor"]


def test_what_if_skips_an_inactive_partner_as_the_order_path_does(program, monkeypatch):
    from tests.support.program import past_the_fence

    assert program.c.post("/admin/partners/P-BBB/status", headers=auth("admin"),
                          body=dumps({"status": "inactive"})).status_code == 200
    past_the_fence(monkeypatch)
    r = preview(program, {"levels_bps": [1000, 500], "sample": {"amount": "100", "currency": "USD",
                                                                  "partner_id": "P-CCC"}})
    assert r.status_code == 200, r.body
    body = json.loads(r.body)
    assert [row["candidate"]["partner_id"] for row in body["levels"][:2]] == ["P-CCC", "P-AAA"]


@pytest.mark.parametrize("bad", [
    {"levels_bps": [6000, 5000]},  # more than the order, with no cap
    {"levels_bps": []},
    {"levels_bps": [1000], "rank_overrides": {"gold": {"2": 500}}},
    {"levels_bps": [1000], "holding_days": 400},
])
def test_a_candidate_plan_is_refused_with_the_message_publishing_gives(program, bad):
    published = program.c.post("/admin/plans", headers=auth("admin"), body=dumps(bad))
    previewed = preview(program, {**bad, "sample": {"amount": "10.00", "currency": "USD", "depth": 2}})
    assert published.status_code == previewed.status_code == 400
    assert json.loads(previewed.body) == json.loads(published.body)


@pytest.mark.parametrize(("sample", "code"), [
    ({"amount": "10.001", "currency": "USD"}, "inexact_amount"),
    ({"amount": "1500.5", "currency": "JPY"}, "inexact_amount"),
    ({"amount": "10", "amount_minor": 1000, "currency": "USD"}, "invalid_sample"),
    ({"currency": "USD"}, "invalid_sample"),
    ({"amount": "10", "currency": "XAU"}, "unknown_currency"),
    ({"amount": "10", "currency": "USD", "depth": 2, "partner_id": "P-CCC"}, "invalid_sample"),
    ({"amount": "0", "currency": "USD"}, "invalid_amount"),
])
def test_a_sample_order_that_is_not_exact_or_not_whole_is_refused(program, sample, code):
    r = preview(program, {"levels_bps": [1000], "sample": sample})
    assert r.status_code == 400, r.body
    assert json.loads(r.body)["error"]["code"] == code


def test_a_sample_amount_in_currency_units_counts_the_currencys_own_minor_digits(program):
    yen = json.loads(preview(program, {"levels_bps": [1000], "sample": {"amount": "1500", "currency": "JPY",
                                                                        "depth": 1}}).body)
    assert yen["amount_minor"] == 1500 and paid(yen, "candidate") == {1: 150}


def test_a_sample_partner_that_does_not_exist_is_a_404(program):
    r = preview(program, {"levels_bps": [1000], "sample": {"amount": "1", "currency": "USD", "partner_id": "P-NOPE"}})
    assert r.status_code == 404


def test_only_an_admin_previews_a_plan(program):
    body = {"levels_bps": [1000], "sample": {"amount": "1", "currency": "USD"}}
    assert preview(program, body, who="finance").status_code == 403


# ---- the audit log -----------------------------------------------------------------------------------
def audit(p: Settling, query: str):
    return p.c.get(f"/admin/audit?{query}", headers=auth("admin"))


@pytest.fixture
def busy_day(program):
    """On 2026-08-10: alice moves CCC and sets BBB inactive, bob sets a target (after the setup's
    plan.publish and three partner.enrol by the default admin subject)."""
    program.c.post("/admin/partners/P-CCC/move", headers=auth("admin", subject="alice"),
                   body=dumps({"new_sponsor_code": "AAA"}))
    program.c.post("/admin/partners/P-BBB/status", headers=auth("admin", subject="alice"),
                   body=dumps({"status": "inactive"}))
    program.c.put("/admin/partners/P-BBB/targets/2026-08", headers=auth("admin", subject="bob"),
                  body=dumps({"target_minor": 50_000}))
    return program


def test_the_audit_log_filters_by_actor_and_by_action_or_its_family(busy_day):
    day = "day=2026-08-10"
    alice = json.loads(audit(busy_day, f"{day}&actor=alice").body)["records"]
    assert [r["action"] for r in alice] == ["partner.move", "partner.status"]
    partner = json.loads(audit(busy_day, f"{day}&action=partner").body)["records"]
    assert [r["action"] for r in partner] == ["partner.enrol"] * 3 + ["partner.move", "partner.status"]
    both = json.loads(audit(busy_day, f"{day}&actor=bob&action=target.set").body)["records"]
    assert [(r["actor"], r["target"]) for r in both] == [("bob", "partner:P-BBB:2026-08")]
    assert json.loads(audit(busy_day, f"{day}&actor=bob&action=partner").body)["records"] == []
    assert json.loads(audit(busy_day, "day=2026-08-11").body)["records"] == []


def test_the_audit_log_pages_with_an_opaque_cursor_and_reads_every_record_once(busy_day):
    whole = json.loads(audit(busy_day, "day=2026-08-10&limit=500").body)
    assert whole["next_cursor"] is None and len(whole["records"]) == 7
    seen, cursor, pages = [], None, 0
    while True:
        r = audit(busy_day, "day=2026-08-10&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200, r.body
        body = json.loads(r.body)
        seen += [rec["audit_id"] for rec in body["records"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [rec["audit_id"] for rec in whole["records"]] and pages == 4


def test_a_filtered_page_goes_on_after_the_last_record_it_returned(busy_day):
    first = json.loads(audit(busy_day, "day=2026-08-10&action=partner&limit=4").body)
    assert len(first["records"]) == 4 and first["next_cursor"]
    rest = json.loads(audit(busy_day, f"day=2026-08-10&action=partner&limit=4&cursor={first['next_cursor']}").body)
    assert [r["action"] for r in rest["records"]] == ["partner.status"] and rest["next_cursor"] is None


@pytest.mark.parametrize("query", ["day=2026-02-30", "day=yesterday", "day=2026-8-1", "actor=a%20b",
                                   "action=DROP", "action=partner.", "cursor=not-a-cursor", "limit=0",
                                   "limit=501", f"actor={'x' * 129}"])
def test_bad_audit_filters_are_refused(busy_day, query):
    r = audit(busy_day, query)
    assert r.status_code == 400, r.body
    assert "error" in json.loads(r.body)


def test_a_cursor_made_for_other_filters_is_refused(busy_day):
    cursor = json.loads(audit(busy_day, "day=2026-08-10&limit=1").body)["next_cursor"]
    r = audit(busy_day, f"day=2026-08-10&limit=1&actor=alice&cursor={cursor}")
    assert r.status_code == 400 and json.loads(r.body)["error"]["code"] == "invalid_cursor"


# ---- held orders -------------------------------------------------------------------------------------
@pytest.fixture
def held(program):
    r = program.order("o-ring", 100_000, customer="x", referral_code="CCC", at=program.clock.t,
                      email="boss@ring.example")
    assert json.loads(r.body)["status"] == "held", r.body
    return program


def queue(p: Settling, query: str = "") -> list[dict]:
    r = p.c.get(f"/admin/holds{query}", headers=auth("admin"))
    assert r.status_code == 200, r.body
    return json.loads(r.body)["holds"]


def test_the_hold_queue_gives_each_holds_reasons_as_codes_and_in_words(held):
    [hold] = queue(held)
    assert hold["reasons"] == ["self_referral_ring"]
    [detail] = hold["reason_details"]
    assert detail["code"] == "self_referral_ring" and "commission chain" in detail["text"]


def test_a_rejection_needs_a_reason_and_the_reason_is_kept_on_the_hold_and_in_the_audit_log(held):
    for body in (b"{}", dumps({"reason": "   "})):
        r = held.c.post("/admin/holds/o-ring/reject", headers=auth("admin"), body=body)
        assert r.status_code == 400, r.body
    assert queue(held)[0]["status"] == "held"  # nothing was written
    r = held.c.post("/admin/holds/o-ring/reject", headers=auth("admin", subject="rita"),
                    body=dumps({"reason": "same card as the sponsor"}))
    assert r.status_code == 200, r.body
    [hold] = queue(held)
    assert (hold["status"], hold["rejected_by"], hold["review_reason"]) == ("rejected", "rita",
                                                                            "same card as the sponsor")
    [rec] = json.loads(audit(held, "day=2026-08-10&action=hold.reject").body)["records"]
    assert rec["actor"] == "rita" and rec["after"] == {"status": "rejected", "reason": "same card as the sponsor"}


def test_a_release_keeps_the_reviewers_reason_and_the_queue_filters_by_status(held):
    r = held.c.post("/admin/holds/o-ring/release", headers=auth("admin"), body=dumps({"reason": "checked: siblings"}))
    assert r.status_code == 200, r.body
    assert json.loads(r.body)["review_reason"] == "checked: siblings"
    assert queue(held, "?status=held") == []
    assert [h["review_reason"] for h in queue(held, "?status=released")] == ["checked: siblings"]
    assert held.c.get("/admin/holds?status=maybe", headers=auth("admin")).status_code == 400
