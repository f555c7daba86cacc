"""The finance console's server side, on moto and on DynamoDB Local: an order with every entry it
produced, a partner's periods, a period's ledger paged, the payout list, the comparison with the
previous period, the preview and why a period waits, a batch's totals and its exports verified,
and finance's actions that move money explained and reasoned.

The worked program (tests/support/settlement.py): A > B > C > D, levels 10 %, 5 %, 2 %, a personal
ladder bonus of 200.00 from 10,000.00 of volume; every expected figure below is worked from those."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.store.files import FolderFiles
from tests.support.helpers import auth, dumps
from tests.support.program import project_figures
from tests.support.settlement import AFTER_AUG_LOCK, AFTER_SEP_LOCK, AUG, Clock, Settling

UTC = timezone.utc
LEVELS_BPS = (1000, 500, 200)  # the worked plan's D, C, B shares of an order sold through D
LADDER_FIRST_FLAT = 20_000  # the bonus for 10,000.00 to 50,000.00 of personal volume


@pytest.fixture
def clock(monkeypatch):
    c = Clock(AUG)
    monkeypatch.setattr(bootstrap, "now", c)
    return c


@pytest.fixture
def program(api_any, clock, tmp_path):
    bootstrap.use_files(FolderFiles(tmp_path / "exports"))
    p = Settling(api_any, clock)
    p.worked_program()
    return p


def get(p: Settling, path: str, role: str = "finance", **kw):
    r = p.c.get(path, headers=auth(role, **kw))
    return r.status_code, json.loads(r.body) if r.body else None


def ok(p: Settling, path: str) -> dict:
    status, body = get(p, path)
    assert status == 200, body
    return body


def share(amount: int, bps: int) -> int:
    return amount * bps // 10_000


def settle_august(p: Settling, amount: int = 1_000_000) -> None:
    p.sell("o1", amount)
    p.clock.t = AFTER_AUG_LOCK
    assert p.run(period="2026-08", who="finance-1").status_code == 200


# ---- 1. an order and every entry it produced ----------------------------------------------------
def test_an_order_shows_every_entry_it_produced_across_partners_with_its_trace_and_later_clawbacks(program):
    program.sell("o1", 1_000_000)
    program.clock.t = datetime(2026, 8, 20, tzinfo=UTC)
    program.give_back("o1", "r1", 200_000)  # in August: reversals in the order's own period
    program.clock.t = AFTER_AUG_LOCK
    assert program.run(period="2026-08").status_code == 200
    program.clock.t = datetime(2026, 9, 10, tzinfo=UTC)
    program.give_back("o1", "r2", 100_000)  # after August closed: clawbacks settled in September
    body = ok(program, "/orders/o1")
    assert (body["order"]["amount_minor"], body["order"]["refunded_minor"]) == (1_000_000, 300_000)
    assert sorted(r["refund_id"] for r in body["refunds"]) == ["r1", "r2"]
    got = {(e["partner_id"], e["kind"], e["refund_id"]): e for e in body["entries"]}
    for level, (pid, bps) in enumerate(zip(("P-DDD", "P-CCC", "P-BBB"), LEVELS_BPS, strict=True), start=1):
        c = got[(pid, "commission", None)]
        assert (c["level"], c["rate_bps"], c["plan_version"], c["amount_minor"]) == \
            (level, bps, 1, share(1_000_000, bps))
        assert c["rule"] == f"plan v1: level {level} at {bps} bps"
        assert got[(pid, "reversal", "r1")]["amount_minor"] == -share(200_000, bps)
        assert got[(pid, "reversal", "r1")]["settles_in"] == "2026-08"
        claw = got[(pid, "reversal", "r2")]
        assert (claw["amount_minor"], claw["settles_in"], claw["reverses"]) == \
            (-share(100_000, bps), "2026-09", c["entry_id"])
    assert len(body["entries"]) == 9  # three levels, each: the commission and two reversals
    net = {t["partner_id"]: t["amount_minor"] for t in body["totals"]}
    assert net == {pid: share(700_000, bps) for pid, bps in zip(("P-DDD", "P-CCC", "P-BBB"), LEVELS_BPS,
                                                                  strict=True)}


def test_an_order_is_for_finance_and_admin_only_and_an_unknown_one_is_a_404(program):
    program.sell("o1", 1_000_000)
    assert get(program, "/orders/o1", "admin")[0] == 200
    assert get(program, "/orders/o1", "partner", partner_id="P-DDD")[0] == 403
    status, body = get(program, "/orders/no-such-order")
    assert (status, body["error"]["code"]) == (404, "unknown_order")


# ---- 2. a partner's periods ----------------------------------------------------------------------
def test_a_partners_periods_show_volume_lines_and_the_balance_carried(program):
    program.sell("o1", 30_000)  # D 30.00: under the 50.00 minimum payout, carried
    program.clock.t = AFTER_AUG_LOCK
    assert program.run(period="2026-08").status_code == 200
    project_figures()
    body = ok(program, "/partners/P-DDD/periods")
    aug = next(p for p in body["periods"] if p["period"] == "2026-08")
    assert aug["volume_minor"] == {"USD": 30_000}
    (line,) = aug["lines"]
    assert (line["payout_minor"], line["carried_out_minor"]) == (0, share(30_000, 1000))
    assert body["carried"] == [{"currency": "USD", "period": "2026-08", "amount_minor": share(30_000, 1000)}]
    assert get(program, "/partners/P-DDD/periods", "partner", partner_id="P-DDD")[0] == 403
    assert get(program, "/partners/P-NOPE/periods")[0] == 404


# ---- 3. a period's ledger, paged ---------------------------------------------------------------
def test_a_periods_ledger_pages_through_every_entry_once_and_filters(program):
    program.sell("o1", 1_000_000)
    program.sell("o2", 400_000, code="CCC", customer="cust-2")
    program.clock.t = AFTER_AUG_LOCK
    assert program.run(period="2026-08").status_code == 200
    # o1: D, C, B; o2 (through C): C, B, A; and D's ladder bonus (C's 400,000 + nothing: under the ladder)
    expected = {"o1#L1", "o1#L2", "o1#L3", "o2#L1", "o2#L2", "o2#L3", "bonus#2026-08#threshold#P-DDD"}
    seen, cursor, pages = [], None, 0
    while True:
        body = ok(program, "/settlements/2026-08/ledger?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += [e["entry_id"] for e in body["entries"]]
        pages += 1
        assert all(e["partner_id"] for e in body["entries"])
        cursor = body["next"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(expected) and pages == 4
    ddd = ok(program, "/settlements/2026-08/ledger?partner=P-DDD")["entries"]
    assert sorted(e["entry_id"] for e in ddd) == ["bonus#2026-08#threshold#P-DDD", "o1#L1"]
    bonus = ok(program, "/settlements/2026-08/ledger?kind=bonus")["entries"]
    assert [e["amount_minor"] for e in bonus] == [LADDER_FIRST_FLAT]
    assert ok(program, "/settlements/2026-08/ledger?currency=EUR")["entries"] == []
    status, body = get(program, "/settlements/2026-08/ledger?cursor=garbage!")
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")
    first = ok(program, "/settlements/2026-08/ledger?limit=1")["next"]
    status, body = get(program, f"/settlements/2026-08/ledger?limit=1&kind=bonus&cursor={first}")
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")  # a cursor from another query


# ---- 4 and 6. the payout list and the comparison ---------------------------------------------------
def settle_two_periods(p: Settling) -> None:
    """August: 10,000.00 through D. September: 30,000.00 through C (so A earns, and D nothing)."""
    settle_august(p)
    p.clock.t = datetime(2026, 9, 10, tzinfo=UTC)
    p.sell("o2", 3_000_000, code="CCC", customer="cust-2")
    p.clock.t = AFTER_SEP_LOCK
    assert p.run(period="2026-09").status_code == 200


@pytest.fixture
def thresholds(monkeypatch):
    monkeypatch.setenv("UPLINE_FINANCE_REVIEW_THRESHOLD_BPS", "30000")  # 300 %
    monkeypatch.setenv("UPLINE_FINANCE_REVIEW_THRESHOLD_MINOR", "150000")
    bootstrap.settings.cache_clear()
    yield
    bootstrap.settings.cache_clear()


def test_the_comparison_with_the_previous_period_names_changes_newcomers_the_missing_and_flags(program,
                                                                                               thresholds):
    settle_two_periods(program)
    aug = {"P-DDD": share(1_000_000, 1000) + LADDER_FIRST_FLAT, "P-CCC": share(1_000_000, 500),
           "P-BBB": share(1_000_000, 200)}
    sep = {"P-CCC": share(3_000_000, 1000) + LADDER_FIRST_FLAT, "P-BBB": share(3_000_000, 500),
           "P-AAA": share(3_000_000, 200)}
    body = ok(program, "/settlements/2026-09/compare")
    assert body["previous"] == "2026-08"
    changes = {c["partner_id"]: c["change_minor"] for c in body["changes"]}
    assert changes == {pid: sep.get(pid, 0) - aug.get(pid, 0) for pid in aug.keys() | sep.keys()}
    assert [c["partner_id"] for c in body["new"]] == ["P-AAA"]
    assert [c["partner_id"] for c in body["missing"]] == ["P-DDD"]
    assert [c["partner_id"] for c in body["largest"]] == sorted(changes, key=lambda k: -abs(changes[k]))
    flagged = {pid for pid, ch in changes.items()
               if abs(ch) >= 150_000 or (aug.get(pid) and abs(ch) * 10_000 >= 30_000 * aug[pid])}
    assert {c["partner_id"] for c in body["flagged"]} == flagged == {"P-CCC", "P-BBB"}


def test_the_payout_list_sorts_filters_searches_and_pages_on_the_server(program, thresholds):
    settle_two_periods(program)
    base = "/settlements/2026-09/payouts"
    desc = ok(program, base + "?sort=payout_minor&desc=true")
    assert [ln["partner_id"] for ln in desc["lines"]] == ["P-CCC", "P-BBB", "P-AAA"]
    assert {ln["status"] for ln in desc["lines"]} == {"draft"}
    assert [ln["partner_id"] for ln in ok(program, base + "?q=ccc")["lines"]] == ["P-CCC"]
    assert [ln["partner_id"] for ln in ok(program, base + "?q=Bb")["lines"]] == ["P-BBB"]  # any case
    assert [ln["partner_id"] for ln in ok(program, base + "?min=100000&max=200000")["lines"]] == ["P-BBB"]
    assert [ln["partner_id"] for ln in ok(program, base + "?flagged=true")["lines"]] == ["P-BBB", "P-CCC"]
    assert ok(program, base + "?status=failed")["lines"] == []
    first = ok(program, base + "?limit=2")
    assert (first["total"], len(first["lines"])) == (3, 2)
    rest = ok(program, base + f"?limit=2&cursor={first['next']}")
    assert [ln["partner_id"] for ln in first["lines"] + rest["lines"]] == ["P-AAA", "P-BBB", "P-CCC"]
    assert rest["next"] is None
    for bad in ("?sort=secret", "?flagged=maybe", "?min=-1", f"?limit=2&q=x&cursor={first['next']}"):
        status, body = get(program, base + bad)
        assert status == 400, (bad, body)
    assert get(program, base, "partner", partner_id="P-CCC")[0] == 403
    assert get(program, "/settlements/2026-07/payouts")[0] == 404


def test_a_line_drills_down_to_its_entries_and_an_entry_to_its_order(program):
    settle_august(program)
    drill = ok(program, "/settlements/2026-08/lines/P-DDD/entries")
    commission = next(e for e in drill["entries"] if e["kind"] == "commission")
    bonus = next(e for e in drill["entries"] if e["kind"] == "bonus")
    assert (bonus["trace"]["basis"], bonus["trace"]["volume_minor"], bonus["trace"]["plan_version"]) == \
        ("personal", 1_000_000, 1)
    order = ok(program, f"/orders/{commission['order_id']}")
    assert {e["partner_id"] for e in order["entries"]} == {"P-DDD", "P-CCC", "P-BBB"}


# ---- 7. the preview and the periods ------------------------------------------------------------
def test_the_preview_shows_amounts_per_line_and_currency(program):
    program.sell("o1", 1_000_000)
    program.clock.t = AFTER_AUG_LOCK
    body = ok(program, "/settlements/2026-08/preview")
    assert body["blocked"] is None
    payouts = {ln["partner_id"]: ln["payout_minor"] for ln in body["lines"]}
    expected = {"P-DDD": share(1_000_000, 1000) + LADDER_FIRST_FLAT, "P-CCC": share(1_000_000, 500),
                "P-BBB": share(1_000_000, 200)}
    assert payouts == expected
    usd = body["totals"]["USD"]
    assert (usd["payout_minor"], usd["bonuses_minor"], usd["lines"]) == (sum(expected.values()), 20_000, 3)


def test_the_preview_says_why_a_period_cannot_be_settled_yet(program):
    program.sell("o1", 1_000_000)
    status, body = get(program, "/settlements/2026-08/preview")  # still August
    assert status == 200 and body["blocked"]["code"] == "period_not_locked"
    assert body["blocked"]["until"] == bootstrap.settlement().cal.settles_from("2026-08").isoformat()
    assert "open until" in body["blocked"]["message"]
    program.clock.t = AFTER_SEP_LOCK
    body = ok(program, "/settlements/2026-09/preview")
    assert body["blocked"]["code"] == "earlier_period_open" and "2026-08" in body["blocked"]["message"]
    body = ok(program, "/settlements/2026-07/preview")
    assert body["blocked"]["code"] == "before_program" and body["lines"] == []


def test_with_no_plan_the_preview_says_so_and_no_period_is_offered(api_any, clock):
    p = Settling(api_any, clock)
    status, body = get(p, "/settlements/2026-08/preview")
    assert status == 200 and body["blocked"]["code"] == "no_plan"
    assert ok(p, "/settlements/periods") == {"first": None, "periods": []}


def test_the_periods_list_starts_at_the_programs_first_plan_and_says_which_wait(program):
    program.clock.t = AFTER_SEP_LOCK
    body = ok(program, "/settlements/periods")
    assert body["first"] == "2026-08" and body["next_to_settle"] == "2026-08"
    by = {p["period"]: p for p in body["periods"]}
    assert list(by) == ["2026-10", "2026-09", "2026-08"]  # never a month before the program
    assert by["2026-08"]["blocked"] is None
    assert by["2026-09"]["blocked"]["code"] == "earlier_period_open"
    assert by["2026-10"]["blocked"]["code"] == "period_not_locked"
    assert program.run(period="2026-08").status_code == 200
    body = ok(program, "/settlements/periods")
    assert body["next_to_settle"] == "2026-09"
    assert {p["period"]: p["batch_status"] for p in body["periods"]}["2026-08"] == "draft"


# ---- 8. totals, controls, checksums, verification ------------------------------------------------
def test_a_batchs_summary_totals_each_column_per_currency_beside_its_controls(program):
    settle_august(program)
    body = ok(program, "/settlements/2026-08/summary")
    usd = body["totals"]["USD"]
    commissions = sum(share(1_000_000, bps) for bps in LEVELS_BPS)
    assert (usd["commissions_minor"], usd["bonuses_minor"], usd["clawbacks_minor"]) == \
        (commissions, LADDER_FIRST_FLAT, 0)
    assert (usd["payout_minor"], usd["carried_out_minor"], usd["payouts"]) == \
        (commissions + LADDER_FIRST_FLAT, 0, 3)
    assert body["control"]["USD"]["payout_minor"] == usd["payout_minor"]
    assert body["reconciliation"]["ok"] is True
    assert set(body["exports"]) == {"summary", "detail", "json"}
    assert all(len(x["sha256"]) == 64 for x in body["exports"].values())


def test_verifying_the_exports_regenerates_them_and_names_a_file_that_differs(program, tmp_path):
    settle_august(program)
    r = program.c.post("/settlements/2026-08/exports/verify", headers=auth("finance"), body=b"{}")
    body = json.loads(r.body)
    assert r.status_code == 200 and body["ok"] is True and body["differ"] == []
    (tmp_path / "exports" / "exports" / "2026-08" / "detail.csv").write_bytes(b"tampered")
    body = json.loads(program.c.post("/settlements/2026-08/exports/verify", headers=auth("finance"),
                                     body=b"{}").body)
    assert body["ok"] is False and body["differ"] == ["detail"]
    detail = body["files"]["detail"]
    assert detail["recorded"] == detail["regenerated"] != detail["stored"]  # the stored file changed
    assert program.c.post("/settlements/2026-08/exports/verify", headers=auth("partner", "P-DDD"),
                          body=b"{}").status_code == 403


# ---- 9. actions that move money: explained, and with a reason ----------------------------------
def test_a_self_approval_is_refused_in_plain_words(program):
    settle_august(program)
    r = program.approve("2026-08", "finance-1")
    err = json.loads(r.body)["error"]
    assert (r.status_code, err["code"]) == (403, "maker_checker")
    assert err["message"] == "You prepared or worked on this batch; a second finance user must approve it."
    assert "maker" not in err["message"].lower()


def test_marking_paid_and_confirming_a_bounce_need_a_reason_which_the_audit_log_keeps(program):
    settle_august(program)
    assert program.approve("2026-08", "finance-2").status_code == 200
    fin2 = auth("finance", subject="finance-2")
    payout = "/settlements/2026-08/payouts/P-CCC/USD/failed"
    assert program.c.post(payout, headers=fin2, body=dumps({})).status_code == 400
    assert program.c.post(payout, headers=fin2, body=dumps({"reason": "account closed"})).status_code == 200
    fin3 = auth("finance", subject="finance-3")
    for body in ({}, {"reason": "   "}):
        r = program.c.post(payout + "/confirm", headers=fin3, body=dumps(body))
        assert (r.status_code, json.loads(r.body)["error"]["code"]) == (400, "invalid_request")
    assert program.lines("2026-08")["P-CCC/USD"]["payout_status"] is None  # nothing moved
    r = program.c.post(payout + "/confirm", headers=fin3, body=dumps({"reason": "bank returned it"}))
    assert r.status_code == 200, r.body
    assert program.c.post("/settlements/2026-08/paid", headers=fin2, body=b"{}").status_code == 400
    assert program.batch("2026-08")["batch"]["status"] == "approved"
    r = program.c.post("/settlements/2026-08/paid", headers=fin2, body=dumps({"reason": "bank statement 0917"}))
    assert r.status_code == 200, r.body
    records = json.loads(program.c.get(f"/admin/audit?day={AFTER_AUG_LOCK.date().isoformat()}",
                                       headers=auth("admin")).body)["records"]
    reasons = {x["action"]: x["after"].get("reason") for x in records if x["outcome"] == "changed"}
    assert reasons["payout.failed"] == "bank returned it"
    assert reasons["settlement.paid"] == "bank statement 0917"
