"""The CLI acts as a named person, under the API's rules and audit trail, and docs/settlement.md's two
settlement walks (the CLI's and curl's) work in either order on the demo program. The CLI runs as
an operator runs it (`scripts.cli.main`), against the same moto table as the API (`--aws --stage test`:
the environment as it is, plus the test stage's values)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chalicelib import bootstrap
from tests.support.helpers import auth, dumps
from tests.support.program import table_snapshot
from tests.support.settlement import AFTER_AUG_LOCK, Clock, Settling

UTC = timezone.utc
PERIOD = "2026-08"
ON_MOTO = ("--aws", "--stage", "test")
# Every command that acts, with everything but the person.
ACTING = {
    "settle": ["settle", "--period", PERIOD],
    "approve": ["approve", PERIOD],
    "mark-paid": ["mark-paid", PERIOD, "--reason", "bank statement"],
    "mark-failed": ["mark-failed", PERIOD, "P-DDD", "USD", "--reason", "bounced"],
    "export": ["export", PERIOD, "summary"],
    "backup": ["backup", "--to", "backups"],
    "restore": ["restore", "--from", "backups/x", "--table", "elsewhere"],
}


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2026, 8, 10, 12, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", c)
    return c


@pytest.fixture
def program(api, clock, tmp_path, monkeypatch):
    """August sold and past its lock; exports in a temporary folder for the API and the CLI alike."""
    monkeypatch.setenv("UPLINE_EXPORT_DIR", str(tmp_path / "exports"))
    bootstrap.use_files(None)
    p = Settling(api, clock)
    p.worked_program()
    p.sell("a1", 200_000)
    clock.t = AFTER_AUG_LOCK
    return p


def audit_records(p: Settling, day: str) -> list[dict]:
    r = p.c.get(f"/admin/audit?day={day}", headers=auth("admin", subject="auditor"))
    assert r.status_code == 200, r.body
    return json.loads(r.body)["records"]


@pytest.mark.parametrize("command", list(ACTING))
def test_a_cli_command_that_acts_refuses_to_run_without_a_named_person(program, cli, command):
    before = table_snapshot()
    r = cli(*ON_MOTO, *ACTING[command])
    assert r.code == 2 and r.err.count("\n") == 1 and "--as NAME" in r.err and "Traceback" not in r.err
    for nobody in ("", "   ", "system:schedule"):
        r = cli(*ON_MOTO, *ACTING[command], "--as", nobody)
        assert r.code == 2 and r.err.count("\n") == 1, r.err
    assert table_snapshot() == before


def test_one_person_cannot_settle_and_approve_through_the_cli_under_another_case_or_spacing(program, cli):
    assert cli(*ON_MOTO, "settle", "--period", PERIOD, "--as", "Alice").code == 0
    for same in ("alice", " ALICE ", "Ａｌｉｃｅ"):
        r = cli(*ON_MOTO, "approve", PERIOD, "--as", same)
        assert r.code == 2 and "maker_checker" in r.err and r.err.count("\n") == 1, r.err
    assert program.batch(PERIOD)["batch"]["status"] == "draft"
    assert cli(*ON_MOTO, "approve", PERIOD, "--as", "bob").code == 0
    assert program.batch(PERIOD)["batch"]["status"] == "approved"


def test_the_api_and_the_cli_apply_one_maker_checker_rule_to_one_person(program, cli):
    assert program.run(PERIOD, who="Fin-1").status_code == 200  # the API, as the token's subject
    r = cli(*ON_MOTO, "approve", PERIOD, "--as", " fin-1")
    assert r.code == 2 and "maker_checker" in r.err
    # ...and the other way round: settled on the CLI, refused to the same person's token.
    program.clock.t = datetime(2026, 10, 6, 1, tzinfo=UTC)
    assert cli(*ON_MOTO, "settle", "--period", "2026-09", "--as", "Gus").code == 0
    refused = program.approve("2026-09", who="gus")
    assert refused.status_code == 403 and json.loads(refused.body)["error"]["code"] == "maker_checker"
    assert program.approve("2026-09", who="hal").status_code == 200


def test_cli_finance_actions_leave_the_same_audit_records_as_the_apis(program, cli):
    assert cli(*ON_MOTO, "settle", "--period", PERIOD, "--as", "maker").code == 0
    assert cli(*ON_MOTO, "approve", PERIOD, "--as", "checker").code == 0
    assert cli(*ON_MOTO, "export", PERIOD, "summary", "--as", "checker").code == 0
    assert cli(*ON_MOTO, "mark-failed", PERIOD, "P-DDD", "USD", "--reason", "account closed",
               "--as", "checker").code == 0
    assert cli(*ON_MOTO, "mark-paid", PERIOD, "--reason", "bank statement", "--as", "checker").code == 0
    by_cli = [r for r in audit_records(program, AFTER_AUG_LOCK.date().isoformat()) if r["role"] == "finance"]
    assert [(r["action"], r["actor"], r["target"]) for r in by_cli] == [
        ("settlement.run", "maker", f"period:{PERIOD}"),
        ("settlement.approve", "checker", f"period:{PERIOD}"),
        ("export.download", "checker", f"export:{PERIOD}:summary"),
        ("payout.bounce_reported", "checker", f"payout:{PERIOD}:P-DDD:USD"),
        ("settlement.paid", "checker", f"period:{PERIOD}"),
    ]
    approve = by_cli[1]
    assert approve["before"]["status"] == "draft" and approve["after"]["status"] == "approved"
    # The API's record of the same kind of action has the same shape.
    program.c.get(f"/settlements/{PERIOD}/exports/detail/content", headers=auth("finance", subject="checker"))
    api = audit_records(program, AFTER_AUG_LOCK.date().isoformat())[-1]
    assert api["action"] == "export.download" and api.keys() == by_cli[2].keys()


def test_the_daily_schedule_acts_and_is_audited_as_a_named_system_actor(program):
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as client:
        event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                resources=[])
        response = client.lambda_.invoke("settle_daily", event)
    assert response.payload["results"] == [{"period": PERIOD, "status": "draft"}]
    batch = program.batch(PERIOD)["batch"]
    assert batch["created_by"] == "system:schedule"
    [run] = [r for r in audit_records(program, AFTER_AUG_LOCK.date().isoformat()) if r["action"] == "settlement.run"]
    assert (run["actor"], run["role"], run["after"]["status"]) == ("system:schedule", "system", "draft")
    assert program.approve(PERIOD, who="fin-1").status_code == 200  # any person may check the schedule's work


def test_admin_and_finance_tokens_are_minted_only_for_a_named_person(cli, monkeypatch):
    r = cli(*ON_MOTO, "mint-token", "--role", "finance")
    assert r.code == 2 and "--subject" in r.err and r.err.count("\n") == 1
    assert cli(*ON_MOTO, "mint-token", "--role", "finance", "--subject", "fin-1").code == 0
    assert cli(*ON_MOTO, "mint-token", "--role", "partner", "--partner-id", "P-DAN").code == 0


def test_a_bad_command_line_is_one_line(cli):
    for argv in (["approve"], ["settle", "--period"], ["frobnicate"], ["--aws", "show", "2026-08"]):
        r = cli(*argv)
        assert r.code == 2 and r.err.count("\n") == 1 and "Traceback" not in r.err, (argv, r.err)


# ---- docs/settlement.md's two settlement walks, in either order ------------------------------------------

def cli_walk(cli) -> str:
    """docs/settlement.md's "with the CLI" walk."""
    period = cli(*ON_MOTO, "next-period").out.strip()
    assert cli(*ON_MOTO, "settle", "--period", period, "--dry-run").code == 0
    assert cli(*ON_MOTO, "settle", "--period", period, "--as", "maker").code == 0
    refused = cli(*ON_MOTO, "approve", period, "--as", "maker")
    assert refused.code == 2 and "maker_checker" in refused.err
    assert cli(*ON_MOTO, "approve", period, "--as", "checker").code == 0
    assert cli(*ON_MOTO, "export", period, "summary", "--as", "checker").code == 0
    assert cli(*ON_MOTO, "mark-paid", period, "--reason", "bank statement", "--as", "checker").code == 0
    return period


def curl_walk(cli, http) -> str:
    """docs/settlement.md's "with curl" walk: the period from the CLI, everything else through the API."""
    period = cli(*ON_MOTO, "next-period").out.strip()
    fin1, fin2 = auth("finance", subject="fin-1"), auth("finance", subject="fin-2")
    assert http.post("/settlements/run", headers=fin1, body=dumps({"period": period, "dry_run": True})).status_code == 200
    assert http.post("/settlements/run", headers=fin1, body=dumps({"period": period})).status_code == 200
    assert http.get(f"/settlements/{period}", headers=fin1).status_code == 200
    approved = http.post(f"/settlements/{period}/approve", headers=fin2, body=b"{}")
    assert approved.status_code == 200, approved.body
    assert http.get(f"/settlements/{period}/exports/summary/content", headers=fin2).status_code == 200
    failed = http.post(f"/settlements/{period}/payouts/P-DAN/USD/failed", headers=fin2,
                       body=dumps({"reason": "account closed"}))
    assert failed.status_code == 200, failed.body
    assert http.post(f"/settlements/{period}/paid", headers=fin2,
                     body=dumps({"reason": "bank statement"})).status_code == 200
    return period


@pytest.mark.parametrize("cli_first", [True, False], ids=["cli-then-curl", "curl-then-cli"])
def test_the_readmes_two_settlement_walks_work_in_either_order(api, cli, cli_first, tmp_path, monkeypatch):
    from scripts import demo

    monkeypatch.setenv("UPLINE_EXPORT_DIR", str(tmp_path / "exports"))
    seeded = cli(*ON_MOTO, "seed-demo")
    assert seeded.code == 0, seeded.err
    older, newer = demo.past_periods(bootstrap.settings(), datetime.now(UTC))
    walks = [lambda: cli_walk(cli), lambda: curl_walk(cli, api.http)]
    settled = [walk() for walk in (walks if cli_first else walks[::-1])]
    assert settled == [older, newer]  # each walk took the oldest period left
