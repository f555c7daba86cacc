"""Periods, bonuses and settlement through the API: the worked example, clawbacks, finance review."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.store.files import FolderFiles
from tests.support.helpers import auth, dumps
from tests.support.program import ledger_items, past_the_fence, project_figures, table_snapshot
from tests.support.settlement import AFTER_AUG_LOCK, AFTER_SEP_LOCK, BONUS_PLAN, Clock, Settling

UTC = timezone.utc


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2026, 8, 10, 12, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", c)
    return c


@pytest.fixture
def program(api, clock, tmp_path):
    bootstrap.use_files(FolderFiles(tmp_path / "exports"))
    p = Settling(api, clock)
    p.worked_program()
    return p


def worked_example_sales(p: Settling) -> None:
    """D sells 62,000.00 in August and 2,000.00 of it is refunded; its target is 40,000.00."""
    p.sell("o1", 6_200_000)
    p.clock.t = datetime(2026, 8, 12, tzinfo=UTC)
    p.give_back("o1", "r1", 200_000)
    p.set_target("DDD", "2026-08", 4_000_000)


def test_worked_example_bonuses_are_settled_with_their_trace(program):
    worked_example_sales(program)
    program.clock.t = AFTER_AUG_LOCK
    r = program.run()
    assert r.status_code == 200, r.body
    assert json.loads(r.body)["status"] == "draft"
    lines = program.lines("2026-08")
    d = lines["P-DDD/USD"]
    assert (d["commissions_minor"], d["clawbacks_minor"], d["bonuses_minor"]) == (620_000, -20_000, 250_000)
    assert d["payout_minor"] == 850_000
    assert lines["P-CCC/USD"]["payout_minor"] == 300_000 and lines["P-BBB/USD"]["payout_minor"] == 120_000
    assert "P-AAA/USD" not in lines
    bonuses = {i["entry_id"]: i for i in ledger_items() if i["kind"] == "bonus"}
    threshold = json.loads(bonuses["bonus#2026-08#threshold#P-DDD"]["trace"])
    over = json.loads(bonuses["bonus#2026-08#overachievement#P-DDD"]["trace"])
    assert (threshold["volume_minor"], threshold["tier_threshold_minor"], threshold["plan_version"]) == \
        (6_000_000, 5_000_000, 1)
    assert bonuses["bonus#2026-08#threshold#P-DDD"]["amount_minor"] == 150_000
    assert (over["target_minor"], over["rate_bps"], over["target_source"]) == (4_000_000, 500, "set for the partner")
    assert bonuses["bonus#2026-08#overachievement#P-DDD"]["amount_minor"] == 100_000


def test_mid_period_progress_shows_the_next_tier_and_an_estimate(program):
    worked_example_sales(program)
    project_figures()  # the volume so far is read from the partner's projected figures
    program.clock.t = datetime(2026, 8, 20, tzinfo=UTC)
    r = program.c.get("/partners/P-DDD/progress", headers=auth("partner", "P-DDD"))
    body = json.loads(r.body)
    assert (body["period"], body["volume_minor"], body["next_tier_minor"], body["needed_for_next_tier_minor"]) == \
        ("2026-08", 6_000_000, 10_000_000, 4_000_000)
    assert (body["target_minor"], body["overachievement_minor"], body["estimate"]) == (4_000_000, 2_000_000, True)
    assert body["estimated_bonus_total_minor"] == 250_000
    other = program.c.get("/partners/P-DDD/progress", headers=auth("partner", "P-CCC"))
    assert other.status_code == 403


def test_team_volume_to_n_levels_drives_the_ladder(program):
    plan = {**BONUS_PLAN, "effective_from": "2026-08-01T00:00:01Z",
            "bonus": {"currency": "USD", "basis": "team", "team_levels": 2, "ladder": BONUS_PLAN["bonus"]["ladder"]}}
    program.publish_plan(plan)
    program.sell("o1", 3_000_000, code="DDD", customer="c1")  # C's level 1, B's level 2, A's level 3
    program.sell("o2", 2_500_000, code="CCC", customer="c2")
    program.clock.t = AFTER_AUG_LOCK
    program.run()
    bonuses = {i["partner_id"]: i["amount_minor"] for i in ledger_items() if i["kind"] == "bonus"}
    # C: 30,000 + 25,000 = 55,000 -> 1,500; B: 55,000 (2 levels) -> 1,500; A: only C at 2 levels -> 25,000 -> 200
    assert bonuses == {"P-DDD": 20_000, "P-CCC": 150_000, "P-BBB": 150_000, "P-AAA": 20_000}


def test_a_rank_earned_in_a_period_takes_effect_in_the_next(program, monkeypatch):
    plan = {**BONUS_PLAN, "effective_from": "2026-08-01T00:00:01Z",
            "rank_overrides": {"gold": {"1": 1500}},
            "bonus": {**BONUS_PLAN["bonus"], "ranks": [{"rank": "gold", "min_personal_minor": 5_000_000}],
                      "default_targets": {"gold": 5_500_000}}}
    program.publish_plan(plan)
    program.sell("o1", 6_000_000)
    assert program.sell("o1b", 10_000)["commissions"][0]["rate_bps"] == 1000  # still base in August
    program.clock.t = AFTER_AUG_LOCK
    program.run()
    past_the_fence(monkeypatch)  # a rank set at the close is scheduled a fence ahead, like any change
    assert json.loads(program.c.get("/partners/P-DDD", headers=auth("admin")).body)["rank"] == "gold"
    program.clock.t = datetime(2026, 9, 10, tzinfo=UTC)
    sept = program.sell("o2", 10_000, customer="c2")
    assert sept["commissions"][0]["rate_bps"] == 1500
    progress = json.loads(program.c.get("/partners/P-DDD/progress", headers=auth("partner", "P-DDD")).body)
    assert (progress["rank"], progress["target_minor"], progress["target_source"]) == \
        ("gold", 5_500_000, "default for rank gold")


def test_a_refund_after_payout_is_clawed_back_next_period_and_the_closed_export_is_unchanged(program):
    program.sell("o1", 1_000_000)  # D 1,000.00 C 500.00 B 200.00 and D's 200.00 ladder bonus
    program.clock.t = AFTER_AUG_LOCK
    program.run()
    august = {name: program.export("2026-08", name) for name in ("summary", "detail", "json")}
    assert program.approve("2026-08", "finance-2").status_code == 200
    assert program.c.post("/settlements/2026-08/paid", headers=auth("finance", subject="finance-2"),
                          body=dumps({"reason": "bank statement"})).status_code == 200
    refund = program.give_back("o1", "r-late", 500_000)  # half of it, in September
    assert refund["period"] == "2026-09"
    program.sell("o2", 2_000_000, customer="c2")
    program.clock.t = AFTER_SEP_LOCK
    program.run()
    d = program.lines("2026-09")["P-DDD/USD"]
    assert (d["commissions_minor"], d["clawbacks_minor"], d["bonuses_minor"]) == (200_000, -50_000, 20_000)
    assert d["payout_minor"] == 170_000
    for name, before in august.items():
        assert program.export("2026-08", name) == before
    assert program.batch("2026-08")["batch"]["status"] == "paid"
    states = {e["entry_id"]: e["state"] for e in program.commissions("DDD")["entries"]}
    assert states["o1#L1"] == "paid" and states["bonus#2026-08#threshold#P-DDD"] == "paid"
    assert states["o2#L1"] == "in_payment"  # settled in September's batch, not yet approved and paid


def test_approval_needs_a_second_finance_user_and_the_reason_is_given(program):
    program.sell("o1", 1_000_000)
    program.clock.t = AFTER_AUG_LOCK
    assert program.run(who="finance-1").status_code == 200
    same = program.approve("2026-08", "finance-1")
    assert same.status_code == 403
    assert json.loads(same.body)["error"]["code"] == "maker_checker"
    partner = program.c.post("/settlements/2026-08/approve", headers=auth("partner", "P-DDD"), body=b"{}")
    assert partner.status_code == 403
    ok = program.approve("2026-08", "finance-2")
    assert ok.status_code == 200 and json.loads(ok.body)["status"] == "approved"
    bank = program.export("2026-08", "payouts").decode()
    assert "UPLINE-2026-08#P-DDD#USD,P-DDD,Ddd,USD,1200.00" in bank


def test_a_failed_payout_returns_its_amount_to_the_next_settlement(program):
    program.sell("o1", 1_000_000)
    program.clock.t = AFTER_AUG_LOCK
    program.run()
    program.approve("2026-08", "finance-2")
    program.clock.t = datetime(2026, 9, 8, tzinfo=UTC)
    r = program.c.post("/settlements/2026-08/payouts/P-CCC/USD/failed", headers=auth("finance", subject="finance-2"),
                       body=dumps({"reason": "account closed"}))
    assert r.status_code == 200, r.body
    again = program.c.post("/settlements/2026-08/payouts/P-CCC/USD/failed",
                           headers=auth("finance", subject="finance-2"), body=dumps({"reason": "account closed"}))
    assert json.loads(again.body) == json.loads(r.body)
    confirmed = program.c.post("/settlements/2026-08/payouts/P-CCC/USD/failed/confirm",
                               headers=auth("finance", subject="finance-3"), body=dumps({"reason": "bank returned it"}))
    assert confirmed.status_code == 200, confirmed.body
    assert program.lines("2026-08")["P-CCC/USD"]["payout_status"] == "failed"
    program.clock.t = AFTER_SEP_LOCK
    program.run()
    c = program.lines("2026-09")["P-CCC/USD"]
    assert (c["adjustments_minor"], c["payout_minor"]) == (50_000, 50_000)
    assert sum(1 for i in ledger_items() if i["kind"] == "payout_return") == 1


def test_exports_escape_formulas_and_match_their_checksums_and_control_totals(program):
    r = program.c.post("/partners", headers=auth("admin"), body=dumps(
        {"name": "=HYPERLINK(\"http://x\")", "code": "EVIL", "sponsor_code": "AAA"}))
    assert r.status_code == 201
    program.sell("o1", 1_000_000, code="EVIL")
    program.clock.t = AFTER_AUG_LOCK
    program.run()
    batch = program.batch("2026-08")["batch"]
    summary = program.export("2026-08", "summary")
    assert hashlib.sha256(summary).hexdigest() == batch["exports"]["summary"]["sha256"]
    rows = list(csv.DictReader(io.StringIO(summary.decode())))
    evil = next(r for r in rows if r["partner_id"] == "P-EVIL")
    assert evil["partner_name"] == "'=HYPERLINK(\"http://x\")"
    control = batch["control"]["USD"]
    assert sum(int(r["payout_minor"]) for r in rows) == control["payout_minor"]
    detail = list(csv.DictReader(io.StringIO(program.export("2026-08", "detail").decode())))
    assert sum(int(r["amount_minor"]) for r in detail) == control["entries_minor"] == \
        batch["reconciliation"]["ledger"]["minor"]["USD"]
    js = json.loads(program.export("2026-08", "json"))
    assert js["control"]["USD"] == control and len(js["entries"]) == len(detail)
    assert batch["reconciliation"]["ok"] is True
    link = json.loads(program.c.get("/settlements/2026-08/exports/summary", headers=auth("finance")).body)
    assert link["sha256"] == batch["exports"]["summary"]["sha256"] and link["download"].endswith("/content")


def test_a_dry_run_shows_the_batch_and_writes_nothing(program):
    worked_example_sales(program)
    program.clock.t = AFTER_AUG_LOCK
    before = table_snapshot()
    r = program.run(period="2026-08", dry_run=True)
    assert r.status_code == 200, r.body
    body = json.loads(r.body)
    assert table_snapshot() == before
    d = next(ln for ln in body["lines"] if ln["partner_id"] == "P-DDD")
    assert (d["bonuses_minor"], d["payout_minor"]) == (250_000, 850_000)
    program.run(period="2026-08")
    assert program.lines("2026-08")["P-DDD/USD"]["payout_minor"] == 850_000


def test_late_orders_after_the_lock_land_in_the_open_period(program):
    program.clock.t = AFTER_AUG_LOCK
    late = program.order("late-1", 10_000, at=datetime(2026, 8, 30, tzinfo=UTC), referral_code="DDD")
    assert json.loads(late.body)["period"] == "2026-09"


@pytest.mark.parametrize("path,body,status,code", [
    ("/settlements/run", {"period": "2026-13"}, 400, "invalid_request"),
    ("/settlements/run", {"period": "2026-09"}, 422, "period_not_locked"),
    ("/settlements/run", {"bogus": 1}, 400, "invalid_request"),
    ("/settlements/2026-07/approve", {}, 404, "unknown_batch"),
    ("/settlements/2026-08/payouts/P-DDD/USD/failed", {"reason": ""}, 400, "invalid_request"),
])
def test_bad_settlement_requests_are_4xx_and_write_nothing(program, path, body, status, code):
    program.clock.t = AFTER_AUG_LOCK
    before = table_snapshot()
    r = program.c.post(path, headers=auth("finance", subject="finance-2"), body=dumps(body))
    assert (r.status_code, json.loads(r.body)["error"]["code"]) == (status, code)
    assert table_snapshot() == before


def test_on_s3_exports_are_encrypted_and_linked_by_a_short_lived_presigned_url(api, clock, monkeypatch):
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="upline-exports-test")
    monkeypatch.setenv("UPLINE_EXPORT_BUCKET", "upline-exports-test")
    bootstrap.settings.cache_clear()
    bootstrap.use_files(None)
    p = Settling(api, clock)
    p.worked_program()
    p.sell("o1", 1_000_000)
    p.clock.t = AFTER_AUG_LOCK
    assert p.run().status_code == 200
    head = s3.head_object(Bucket="upline-exports-test", Key="exports/2026-08/summary.csv")
    assert head["ServerSideEncryption"] == "AES256"
    link = json.loads(p.c.get("/settlements/2026-08/exports/summary", headers=auth("finance")).body)
    assert "X-Amz-Expires=300" in link["url"] and "exports/2026-08/summary.csv" in link["url"]
    body = s3.get_object(Bucket="upline-exports-test", Key="exports/2026-08/summary.csv")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == link["sha256"] == hashlib.sha256(p.export("2026-08", "summary")).hexdigest()


def test_a_batch_that_does_not_reconcile_fails_loudly_and_cannot_be_approved(program, moto_client):
    from chalicelib.domain.ledger import COMMISSION, Entry
    from chalicelib.services.settlement.close import close_period, finalize, run_daily
    from chalicelib.services.settlement.shards import settle_shard
    from chalicelib.store.ledger import entry_item, entry_key
    from chalicelib.store import dynamo

    program.sell("o1", 1_000_000)
    program.clock.t = AFTER_AUG_LOCK
    shards = []
    d = bootstrap.settlement()
    d.fanout = lambda period, shard: shards.append(shard)
    close_period(d, "2026-08", AFTER_AUG_LOCK, "finance-1")
    for shard in shards:
        settle_shard(d, "2026-08", shard)
    # A defect writes an entry behind settlement's back, after the lines were drawn up.
    stray = Entry("stray#L1", COMMISSION, "P-DDD", "stray", 1, 999, "USD", 1, 1000, AFTER_AUG_LOCK, AFTER_AUG_LOCK,
                  period="2026-08", settles_in="2026-08")
    moto_client.put_item(TableName=d.uow.table.name,
                         Item=dynamo.encode(dynamo.with_key(entry_key(stray), entry_item(stray))))
    batch = finalize(d, "2026-08", AFTER_AUG_LOCK)
    assert batch["status"] == "reconciliation_failed"
    assert any("ledger entries sum to" in p for p in batch["reconciliation"]["problems"])
    r = program.approve("2026-08", "finance-2")
    assert (r.status_code, json.loads(r.body)["error"]["code"]) == (409, "reconciliation_failed")
    # Nothing is closed or settled past it: the next run finalizes it again, and fails again, loudly.
    assert d.uow.settlement.period("2026-08")["status"] != "closed" and d.uow.settlement.settled_through() is None
    assert close_period(d, "2026-08", AFTER_AUG_LOCK, "system")["status"] == "reconciliation_failed"
    assert run_daily(d, AFTER_SEP_LOCK) == [{"period": "2026-08", "status": "reconciliation_failed"}]


def test_a_partner_reads_its_funnel_earnings_and_payouts_and_finance_drills_into_a_line(program):
    link = program.link("DDD")
    click = program.follow(link)
    program.order("o1", 1_000_000, at=program.clock.t, click_id=click)
    program.enrol("FFF", "DDD")
    funnel = json.loads(program.c.get("/partners/P-DDD/funnel?period=2026-08", headers=auth("partner", "P-DDD")).body)
    assert (funnel["orders"], funnel["earned_minor"]) == (1, {"USD": 100_000})
    assert funnel["signups"] == 1  # FFF joined under DDD in August (the clock says so)
    program.clock.t = AFTER_AUG_LOCK
    program.run()
    payouts = json.loads(program.c.get("/partners/P-DDD/payouts", headers=auth("partner", "P-DDD")).body)
    assert payouts["payouts"][0]["period"] == "2026-08" and payouts["payouts"][0]["payout_minor"] == 120_000
    months = json.loads(program.c.get("/partners/P-DDD/earnings", headers=auth("partner", "P-DDD")).body)["months"]
    assert months[0]["period"] == "2026-08" and sum(months[0]["currencies"]["USD"].values()) == 120_000
    drill = json.loads(program.c.get("/settlements/2026-08/lines/P-DDD/entries", headers=auth("finance")).body)
    kinds = sorted(e["kind"] for e in drill["entries"])
    assert kinds == ["bonus", "commission"]
    assert next(e for e in drill["entries"] if e["kind"] == "bonus")["trace"]["tier_threshold_minor"] == 1_000_000
    assert program.c.get("/partners/P-DDD/payouts", headers=auth("partner", "P-CCC")).status_code == 403
    statement = program.c.get("/partners/P-DDD/payouts/2026-08/statement", headers=auth("partner", "P-DDD"))
    rows = list(csv.DictReader(io.StringIO(statement.body.decode())))
    assert sorted(r["entry_id"] for r in rows) == ["bonus#2026-08#threshold#P-DDD", "o1#L1"]
    assert program.c.get("/partners/P-DDD/payouts/2026-07/statement",
                         headers=auth("partner", "P-DDD")).status_code == 404
    found = json.loads(program.c.get("/admin/partners?q=ddd", headers=auth("admin")).body)["partners"]
    assert [p["partner_id"] for p in found] == ["P-DDD"]


def test_periods_are_settled_in_order_so_no_entry_is_left_behind(program):
    program.sell("o1", 1_000_000)
    program.clock.t = AFTER_SEP_LOCK
    skip = program.run(period="2026-09")
    assert (skip.status_code, json.loads(skip.body)["error"]["code"]) == (409, "earlier_period_open")
    assert "settle 2026-08 first" in json.loads(skip.body)["error"]["message"]
    assert program.run(period="2026-08").status_code == 200
    assert program.run(period="2026-09").status_code == 200


def test_orders_and_refunds_dated_in_the_future_are_refused_and_write_nothing(program):
    before = table_snapshot()
    future = program.clock.t + timedelta(hours=1)
    r = program.order("o-future", 10_000, at=future, referral_code="DDD")
    assert (r.status_code, json.loads(r.body)["error"]["code"]) == (422, "time_in_future")
    assert table_snapshot() == before
    program.sell("o1", 10_000)
    before = table_snapshot()
    r = program.refund("o1", "r1", 5_000, at=future)
    assert (r.status_code, json.loads(r.body)["error"]["code"]) == (422, "time_in_future")
    assert table_snapshot() == before


@pytest.mark.parametrize("period", ["2024- 1", "2024-+1", "٢٠٢٤-٠١", "2024-13", "2024-1", "1999-12"])
def test_only_well_formed_periods_are_accepted(program, period):
    r = program.c.put(f"/admin/partners/P-DDD/targets/{period}", headers=auth("admin"),
                      body=dumps({"target_minor": 1}))
    assert r.status_code == 400 and json.loads(r.body)["error"]["code"] == "invalid_period"


def test_whoever_did_settlement_work_on_a_batch_may_not_approve_it(program):
    from chalicelib.services.settlement.close import close_period

    program.sell("o1", 1_000_000)
    program.clock.t = AFTER_AUG_LOCK
    d = bootstrap.settlement()
    d.fanout = lambda period, shard: None  # the schedule hands the shards out and stops
    assert close_period(d, "2026-08", AFTER_AUG_LOCK, "system:schedule")["status"] == "building"
    assert json.loads(program.run(period="2026-08", who="finance-3").body)["status"] == "draft"  # finished by hand
    refused = program.approve("2026-08", "finance-3")
    assert (refused.status_code, json.loads(refused.body)["error"]["code"]) == (403, "maker_checker")
    assert program.approve("2026-08", "finance-2").status_code == 200


def test_the_scheduled_run_emits_its_metrics_for_the_settlement_alarms(api, clock, tmp_path, monkeypatch):
    from chalicelib import observability

    bootstrap.use_files(FolderFiles(tmp_path / "exports"))
    p = Settling(api, clock)
    p.worked_program()
    p.sell("o1", 1_000_000)
    p.clock.t = AFTER_AUG_LOCK
    flushed = []
    monkeypatch.setattr(observability.metrics, "flush_metrics", lambda *a, **k: flushed.append(
        dict(observability.metrics.metric_set)))
    api.lambda_.invoke("settle_daily", api.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    assert any("SettlementCompleted" in m for m in flushed)
