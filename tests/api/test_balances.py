"""What a partner is shown as owed: every minor unit once, derived from what settlement pays."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.store.files import FolderFiles
from tests.support.helpers import auth, dumps
from tests.support.settlement import AFTER_AUG_LOCK, AFTER_SEP_LOCK, Clock, Settling

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


def test_a_bounced_payout_is_owed_once_not_twice(program):
    program.sell("o1", 1_000_000)  # C earns 500.00 on D's sale
    program.clock.t = AFTER_AUG_LOCK
    program.run()
    assert program.approve("2026-08", "finance-2").status_code == 200
    assert program.c.post("/settlements/2026-08/paid", headers=auth("finance", subject="finance-2"),
                          body=b'{"reason": "bank statement"}').status_code == 200
    program.clock.t = datetime(2026, 9, 8, tzinfo=UTC)
    base = "/settlements/2026-08/payouts/P-CCC/USD/failed"
    r = program.c.post(base, headers=auth("finance", subject="finance-2"), body=dumps({"reason": "account closed"}))
    assert r.status_code == 200, r.body
    r = program.c.post(base + "/confirm", headers=auth("finance", subject="finance-3"), body=b'{"reason": "bank statement"}')
    assert r.status_code == 200, r.body
    totals = program.commissions("CCC")["totals"]["USD"]
    owed = totals.get("pending", 0) + totals.get("payable", 0) + totals.get("in_payment", 0)
    assert owed == 50_000 and totals["paid"] == 0


def test_entries_carried_below_the_minimum_are_paid_with_the_payout_that_carried_them(program):
    program.sell("o1", 30_000)  # D earns 30.00, below the 50.00 minimum: August carries it
    program.clock.t = AFTER_AUG_LOCK
    program.run()
    assert program.lines("2026-08")["P-DDD/USD"]["carried_out_minor"] == 3_000
    program.clock.t = datetime(2026, 9, 10, tzinfo=UTC)
    program.sell("o2", 30_000, customer="c2")
    program.clock.t = AFTER_SEP_LOCK
    program.run()
    assert program.lines("2026-09")["P-DDD/USD"]["payout_minor"] == 6_000
    for period in ("2026-08", "2026-09"):
        assert program.approve(period, "finance-2").status_code == 200
        assert program.c.post(f"/settlements/{period}/paid", headers=auth("finance", subject="finance-2"),
                              body=b'{"reason": "bank statement"}').status_code == 200
    totals = program.commissions("DDD")["totals"]["USD"]
    assert totals["paid"] == 6_000 and totals["payable"] == 0 and totals["pending"] == 0


def funnel(p: Settling, code: str, period: str) -> dict:
    r = p.c.get(f"/partners/P-{code}/funnel?period={period}", headers=auth("partner", f"P-{code}"))
    assert r.status_code == 200, r.body
    return json.loads(r.body)


def test_the_funnel_shows_commissions_and_bonuses_apart_and_never_a_returned_payout(program):
    program.sell("o1", 1_100_000)  # D: 1,100.00 commission
    program.give_back("o1", "r1", 100_000)  # refunded in August: 100.00 of it back; 200.00 bonus at the close
    program.clock.t = AFTER_AUG_LOCK
    program.run()
    assert program.approve("2026-08", "finance-2").status_code == 200
    assert program.c.post("/settlements/2026-08/paid", headers=auth("finance", subject="finance-2"),
                          body=b'{"reason": "bank statement"}').status_code == 200
    program.clock.t = datetime(2026, 9, 8, tzinfo=UTC)
    base = "/settlements/2026-08/payouts/P-DDD/USD/failed"
    assert program.c.post(base, headers=auth("finance", subject="finance-2"),
                          body=dumps({"reason": "account closed"})).status_code == 200
    assert program.c.post(base + "/confirm", headers=auth("finance", subject="finance-3"),
                          body=b'{"reason": "bank statement"}').status_code == 200  # the 1,200.00 payout returned into September
    august, september = funnel(program, "DDD", "2026-08"), funnel(program, "DDD", "2026-09")
    assert (august["commissions_minor"], august["bonuses_minor"]) == ({"USD": 100_000}, {"USD": 20_000})
    assert august["earned_minor"] == {"USD": 120_000} and august["orders"] == 1
    assert (september["commissions_minor"], september["bonuses_minor"], september["earned_minor"]) == ({}, {}, {})
