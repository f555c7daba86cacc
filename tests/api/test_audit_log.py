"""Every admin and finance action leaves an append-only audit record (who, what, when, before and
after), readable by admins only, under the AUDIT# key prefix that backups carry."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.store import keys
from chalicelib.store.files import FolderFiles
from tests.support.helpers import DynamoCalls, auth, dumps
from tests.support.program import ledger_items, table_snapshot
from tests.support.settlement import AFTER_AUG_LOCK, Clock, Settling

UTC = timezone.utc
PLAN = {"levels_bps": [1000, 500, 200], "cap_bps": 2000, "holding_days": 10, "min_payout_minor": 100,
        "effective_from": "2026-08-01T00:00:00Z"}


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2026, 8, 10, 12, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", c)
    return c


@pytest.fixture
def program(api, clock, tmp_path):
    bootstrap.use_files(FolderFiles(tmp_path / "exports"))
    p = Settling(api, clock)
    p.publish_plan(PLAN)
    p.chain(["AAA", "BBB", "CCC"])
    return p


def audit(p: Settling, day: str) -> list[dict]:
    r = p.c.get(f"/admin/audit?day={day}", headers=auth("admin"))
    assert r.status_code == 200, r.body
    return json.loads(r.body)["records"]


def test_admin_actions_are_recorded_with_who_what_and_before_after(program):
    program.c.post("/admin/partners/P-CCC/status", headers=auth("admin", subject="alice"),
                   body=dumps({"status": "inactive"}))
    program.c.post("/admin/partners/P-CCC/move", headers=auth("admin", subject="alice"),
                   body=dumps({"new_sponsor_code": "AAA"}))
    program.set_target("BBB", "2026-08", 50_000)
    records = audit(program, "2026-08-10")
    actions = [r["action"] for r in records]
    assert actions == ["plan.publish", "partner.enrol", "partner.enrol", "partner.enrol", "partner.status",
                       "partner.move", "target.set"]
    status = records[4]
    assert status["actor"] == "alice" and status["role"] == "admin" and status["target"] == "partner:P-CCC"
    # The change is recorded as scheduled (it takes effect a fence later), before and after.
    assert status["before"]["status"] == "active" and status["before"]["scheduled"] == []
    assert [c["status"] for c in status["after"]["scheduled"]] == ["inactive"]
    move = records[5]
    assert move["before"]["sponsor_id"] == "P-BBB" and move["after"]["scheduled"][-1]["sponsor_id"] == "P-AAA"


def test_finance_actions_and_export_downloads_are_recorded(program):
    program.sell("o1", 100_000, code="CCC")
    program.clock.t = AFTER_AUG_LOCK
    assert program.run("2026-08", who="fin-1").status_code == 200
    assert program.approve("2026-08", "fin-2").status_code == 200
    program.export("2026-08", "summary", who="fin-2")
    assert program.c.post("/settlements/2026-08/paid", headers=auth("finance", subject="fin-2"),
                          body=dumps({"reason": "bank statement"})).status_code == 200
    records = audit(program, AFTER_AUG_LOCK.date().isoformat())
    seen = [(r["action"], r["actor"]) for r in records]
    assert seen == [("settlement.run", "fin-1"), ("settlement.approve", "fin-2"), ("export.download", "fin-2"),
                    ("settlement.paid", "fin-2")]
    approve = records[1]
    assert approve["before"]["status"] == "draft" and approve["after"]["status"] == "approved"
    assert len(records[2]["after"]["sha256"]) == 64


def test_the_hold_release_and_its_audit_record_are_one_transaction(program):
    program.enrol("RING", email="ring@example.com")
    r = program.order("o-held", 100_000, customer="c", referral_code="RING", at=program.clock.t,
                      email="ring@example.com")
    assert json.loads(r.body)["status"] == "held"
    calls = DynamoCalls(bootstrap.table().client)
    assert program.c.post("/admin/holds/o-held/release", headers=auth("admin", subject="bob"),
                          body=b"{}").status_code == 200
    assert calls.ops["TransactWriteItems"] == 1 and calls.writes == 1
    rec = [r for r in audit(program, "2026-08-10") if r["action"] == "hold.release"]
    assert [(r["actor"], r["target"]) for r in rec] == [("bob", "order:o-held")]


def test_only_admins_read_the_audit_log(program):
    for who in (auth("finance"), auth("partner", "P-AAA"), {}):
        r = program.c.get("/admin/audit", headers=who)
        assert r.status_code in (401, 403)


def test_audit_records_live_under_the_audit_prefix_and_are_never_overwritten(program):
    items = [i for i in table_snapshot() if i["PK"].startswith(keys.AUDIT_PREFIX)]
    assert len(items) == 4 and all(i["PK"] == "AUDIT#2026-08-10" for i in items)
    before = {(i["PK"], i["SK"]): i for i in items}
    program.enrol("DDD")
    after = {(i["PK"], i["SK"]): i for i in table_snapshot() if i["PK"].startswith(keys.AUDIT_PREFIX)}
    assert all(after[k] == v for k, v in before.items()) and len(after) == 5


def test_a_bad_day_is_refused(program):
    r = program.c.get("/admin/audit?day=yesterday", headers=auth("admin"))
    assert r.status_code == 400


def test_a_repeated_request_is_recorded_as_a_repeat_that_changed_nothing_not_as_another_action(program):
    program.sell("o1", 100_000, code="CCC")
    program.clock.t = AFTER_AUG_LOCK
    assert program.run("2026-08", who="fin-1").status_code == 200
    assert program.run("2026-08", who="fin-1").status_code == 200  # the batch is already drawn up
    for _ in range(2):
        assert program.approve("2026-08", "fin-2").status_code == 200
    payout = "/settlements/2026-08/payouts/P-CCC/USD/failed"
    for _ in range(10):
        r = program.c.post(payout, headers=auth("finance", subject="fin-2"), body=dumps({"reason": "closed"}))
        assert r.status_code == 200, r.body
    for _ in range(2):
        r = program.c.post(payout + "/confirm", headers=auth("finance", subject="fin-3"),
                           body=dumps({"reason": "bank returned it"}))
        assert r.status_code == 200, r.body
    for _ in range(2):
        program.set_target("BBB", "2026-09", 50_000)
        program.export("2026-08", "summary", who="fin-2")
    program.enrol("CCC", "BBB")  # a replayed enrolment
    records = audit(program, AFTER_AUG_LOCK.date().isoformat())
    seen = [(r["action"], r["outcome"]) for r in records]
    assert seen == [
        ("settlement.run", "changed"), ("settlement.run", "no_change"),
        ("settlement.approve", "changed"), ("settlement.approve", "no_change"),
        ("payout.bounce_reported", "changed"), *[("payout.bounce_reported", "no_change")] * 9,
        ("payout.failed", "changed"), ("payout.failed", "no_change"),
        ("target.set", "changed"), ("export.download", "read"),
        ("target.set", "no_change"), ("export.download", "read"),
        ("partner.enrol", "no_change"),
    ]
    failed = records[14]
    assert (failed["before"]["status"], failed["after"]["status"], failed["after"]["confirmed_by"]) == \
        ("reported", "confirmed", "fin-3")
    assert len([i for i in ledger_items() if i["kind"] == "payout_return"]) == 1
