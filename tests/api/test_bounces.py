"""A payout that bounces moves money, so it takes two people: one finance user reports it, another
confirms it (never the reporter, nor anyone who did settlement work on the batch), and only then is
its amount owed again, on the next batch, with who did what."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.store.files import FolderFiles
from tests.support.helpers import auth, dumps
from tests.support.program import ledger_items, table_snapshot
from tests.support.settlement import AFTER_AUG_LOCK, AFTER_SEP_LOCK, Clock, Settling

UTC = timezone.utc
PAYOUT = "/settlements/2026-08/payouts/P-CCC/USD/failed"


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
    p.sell("o1", 1_000_000)  # C earns 500.00
    p.clock.t = AFTER_AUG_LOCK
    assert p.run(who="finance-1").status_code == 200
    assert p.approve("2026-08", "finance-2").status_code == 200
    return p


def post(p: Settling, path: str, who: str, body: dict | None = None):
    return p.c.post(path, headers=auth("finance", subject=who), body=dumps(body or {}))


CONFIRM = {"reason": "bank returned it"}


def pay(p: Settling) -> None:
    assert post(p, "/settlements/2026-08/paid", "finance-2", {"reason": "bank statement"}).status_code == 200


def test_a_bounce_after_payment_moves_nothing_until_a_second_finance_user_confirms_it(program):
    pay(program)
    program.clock.t = datetime(2026, 9, 8, tzinfo=UTC)
    reported = post(program, PAYOUT, "finance-2", {"reason": "account closed"})
    assert reported.status_code == 200, reported.body
    assert json.loads(reported.body)["status"] == "reported"
    assert not [i for i in ledger_items() if i["kind"] == "payout_return"]
    assert program.commissions("CCC")["totals"]["USD"]["paid"] == 50_000  # nothing moved yet

    for who in ("finance-2", " FINANCE-2 ", "finance-1"):  # the reporter (in any case), the batch's maker
        refused = post(program, PAYOUT + "/confirm", who, CONFIRM)
        assert (refused.status_code, json.loads(refused.body)["error"]["code"]) == (403, "maker_checker")
    assert not [i for i in ledger_items() if i["kind"] == "payout_return"]

    confirmed = post(program, PAYOUT + "/confirm", "finance-3", CONFIRM)
    assert confirmed.status_code == 200, confirmed.body
    body = json.loads(confirmed.body)
    assert (body["status"], body["reported_by"], body["confirmed_by"], body["returned_minor"]) == \
        ("confirmed", "finance-2", "finance-3", 50_000)
    assert json.loads(post(program, PAYOUT + "/confirm", "finance-3", CONFIRM).body) == body  # a retry changes nothing
    assert len([i for i in ledger_items() if i["kind"] == "payout_return"]) == 1
    totals = program.commissions("CCC")["totals"]["USD"]
    assert (totals["paid"], totals["returned"], totals["pending"] + totals["payable"]) == (0, 50_000, 50_000)


def test_the_returned_payout_is_its_own_labelled_part_of_the_next_batch_naming_who_reported_and_confirmed(program):
    pay(program)
    program.clock.t = datetime(2026, 9, 8, tzinfo=UTC)
    post(program, PAYOUT, "finance-2", {"reason": "account closed"})
    post(program, PAYOUT + "/confirm", "finance-3", CONFIRM)
    program.clock.t = AFTER_SEP_LOCK
    assert program.run(who="finance-1").status_code == 200
    line = program.lines("2026-09")["P-CCC/USD"]
    assert (line["commissions_minor"], line["adjustments_minor"], line["payout_minor"]) == (0, 50_000, 50_000)
    assert line["returns"] == [{"payout_id": "2026-08#P-CCC#USD", "amount_minor": 50_000,
                                "entry_id": "return#2026-08#P-CCC#USD", "reason": "account closed",
                                "reported_by": "finance-2", "confirmed_by": "finance-3"}]
    detail = list(csv.DictReader(io.StringIO(program.export("2026-09", "detail").decode())))
    row = next(r for r in detail if r["kind"] == "payout_return")
    trace = json.loads(row["trace"])
    assert (trace["reported_by"], trace["confirmed_by"], trace["payout_id"]) == \
        ("finance-2", "finance-3", "2026-08#P-CCC#USD")


def test_a_bounce_before_the_batch_is_marked_paid_follows_the_same_two_person_rule(program):
    program.clock.t = datetime(2026, 9, 8, tzinfo=UTC)
    assert post(program, PAYOUT, "finance-2", {"reason": "unknown account"}).status_code == 200
    pay(program)  # the bank confirmed the rest of the batch; the reported payout is not failed yet
    assert program.lines("2026-08")["P-CCC/USD"]["payout_status"] is None
    assert post(program, PAYOUT + "/confirm", "finance-2", CONFIRM).status_code == 403
    assert post(program, PAYOUT + "/confirm", "finance-3", CONFIRM).status_code == 200
    assert program.lines("2026-08")["P-CCC/USD"]["payout_status"] == "failed"


def test_a_dismissed_report_moves_nothing_and_the_payout_can_be_reported_again(program):
    pay(program)
    before = ledger_items()
    post(program, PAYOUT, "finance-2", {"reason": "typo: wrong partner"})
    dismissed = post(program, PAYOUT + "/dismiss", "finance-2", {"reason": "it was P-BBB's"})
    assert dismissed.status_code == 200 and json.loads(dismissed.body)["status"] == "dismissed"
    assert post(program, PAYOUT + "/confirm", "finance-3", CONFIRM).status_code == 409  # nothing left to confirm
    assert ledger_items() == before
    again = post(program, PAYOUT, "finance-3", {"reason": "account closed"})
    assert json.loads(again.body)["status"] == "reported" and json.loads(again.body)["reported_by"] == "finance-3"


@pytest.mark.parametrize("path,body,status,code", [
    ("/settlements/2026-08/payouts/P-CCC/USD/failed/confirm", {"reason": "x"}, 409, "bounce_not_reported"),
    ("/settlements/2026-08/payouts/P-CCC/USD/failed/confirm", {}, 400, "invalid_request"),
    ("/settlements/2026-08/payouts/P-CCC/USD/failed/dismiss", {"reason": "x"}, 409, "bounce_not_reported"),
    ("/settlements/2026-08/payouts/P-CCC/USD/failed/dismiss", {}, 400, "invalid_request"),
    ("/settlements/2026-08/payouts/P-ZZZ/USD/failed", {"reason": "x"}, 404, "unknown_payout"),
    ("/settlements/2026-07/payouts/P-CCC/USD/failed", {"reason": "x"}, 404, "unknown_batch"),
])
def test_bad_bounce_requests_are_4xx_and_write_nothing(program, path, body, status, code):
    before = table_snapshot()
    r = post(program, path, "finance-3", body)
    assert (r.status_code, json.loads(r.body)["error"]["code"]) == (status, code)
    assert table_snapshot() == before


def test_a_payout_of_a_draft_batch_cannot_bounce(api, clock, tmp_path):
    bootstrap.use_files(FolderFiles(tmp_path / "exports"))
    p = Settling(api, clock)
    p.worked_program()
    p.sell("o1", 1_000_000)
    p.clock.t = AFTER_AUG_LOCK
    p.run(who="finance-1")
    r = post(p, PAYOUT, "finance-2", {"reason": "x"})
    assert (r.status_code, json.loads(r.body)["error"]["code"]) == (409, "invalid_state")


def test_a_confirmation_whose_reply_is_lost_returns_the_payout_once_and_its_audit_record_once(program):
    from tests.api.test_lost_replies import losing

    pay(program)
    program.clock.t = datetime(2026, 9, 8, tzinfo=UTC)
    post(program, PAYOUT, "finance-2", {"reason": "account closed"})
    proxy = losing(bootstrap.uow(), "transact_write_items")
    r = post(program, PAYOUT + "/confirm", "finance-3", CONFIRM)
    assert proxy.seen >= 1 and r.status_code == 200, r.body
    assert json.loads(r.body)["status"] == "confirmed"
    assert len([i for i in ledger_items() if i["kind"] == "payout_return"]) == 1
    records = json.loads(program.c.get("/admin/audit?day=2026-09-08", headers=auth("admin")).body)["records"]
    assert [(x["action"], x["outcome"]) for x in records if x["action"] == "payout.failed"][0] == \
        ("payout.failed", "changed")
    assert sum(1 for x in records if x["action"] == "payout.failed" and x["outcome"] == "changed") == 1


def test_the_cli_reports_and_confirms_a_bounce_by_the_same_rule_and_audits_it(program, cli):
    pay(program)
    where = ["2026-08", "P-CCC", "USD"]
    on_moto = ("--aws", "--stage", "test")
    reported = cli(*on_moto, "mark-failed", *where, "--reason", "account closed", "--as", "finance-2")
    assert reported.code == 0, reported.err
    refused = cli(*on_moto, "confirm-failed", *where, "--reason", "returned", "--as", "Finance-2")  # the reporter, in any case
    assert refused.code == 2 and "maker_checker" in refused.err
    confirmed = cli(*on_moto, "confirm-failed", *where, "--reason", "returned", "--as", "finance-3")
    assert confirmed.code == 0, confirmed.err
    assert json.loads(confirmed.out)["status"] == "confirmed"
    assert len([i for i in ledger_items() if i["kind"] == "payout_return"]) == 1
    records = json.loads(program.c.get(f"/admin/audit?day={AFTER_AUG_LOCK.date()}", headers=auth("admin")).body)
    assert [(r["action"], r["actor"], r["outcome"]) for r in records["records"] if r["action"].startswith("payout")] \
        == [("payout.bounce_reported", "finance-2", "changed"), ("payout.failed", "finance-3", "changed")]
