"""Random histories through the whole stack — the shop's webhooks, the scheduled settlement run,
finance's approvals, payments and two-person bounces — and what partners read: whatever happened,
`GET /partners/{id}/commissions` counts every minor unit once, and shows as payable what the next
settlement run then pays.

"What the next run pays" is what the real settlement (`services.settlement.close.run_daily`) then writes:
the payouts of its new lines plus the balance it carries forward, less the bonus entries that run
itself computes (they are not owed before it). Paid, in payment and returned are summed
independently from the batches' lines; the ledger from the stored entries.
"""
from __future__ import annotations

import json
import os
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import boto3
from chalice.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from chalicelib import bootstrap
from chalicelib.services.settlement.close import run_daily
from chalicelib.store.files import FolderFiles
from chalicelib.store.schema import create_table
from tests.conftest import wire
from tests.support.fastmoto import fast_moto
from tests.support.helpers import auth, dumps
from tests.support.program import table_snapshot
from tests.support.settlement import Clock, Settling

UTC = timezone.utc
CODES = ("AAA", "BBB", "CCC")
START = datetime(2026, 8, 3, 12, tzinfo=UTC)

ORDER = st.tuples(st.just("order"), st.sampled_from(CODES), st.sampled_from(["USD", "EUR"]),
                  st.sampled_from([300, 40_000, 150_000, 400_000]) | st.integers(1, 500_000))
REFUND = st.tuples(st.just("refund"), st.integers(0, 20), st.sampled_from([0.3, 1.0]))
FINANCE = st.one_of(st.tuples(st.just("approve")), st.tuples(st.just("pay")),
                    st.tuples(st.just("bounce"), st.integers(0, 20), st.booleans()))
MONTH = st.tuples(st.lists(st.one_of(ORDER, ORDER, REFUND), max_size=4), st.integers(20, 40),
                  st.sampled_from([True, True, False]), st.lists(FINANCE, max_size=3))
# A history known to reach every state: a balance carried below the minimum and paid the month
# after, a payout approved, paid, bounced and confirmed, its return paid again, and a clawback.
RICH = [([("order", "CCC", "USD", 100_000), ("order", "BBB", "EUR", 400_000)], 35, True,
         [("approve",), ("pay",)]),
        ([("order", "CCC", "USD", 100_000), ("refund", 1, 0.3)], 30, True,
         [("approve",), ("pay",), ("bounce", 0, True), ("bounce", 1, False)]),
        ([("order", "AAA", "USD", 40_000)], 31, True, [("approve",)])]


class History:
    def __init__(self, p: Settling, clock: Clock):
        self.p, self.clock = p, clock
        self.orders: list[list] = []  # [order id, amount not refunded yet, currency]

    def order(self, code: str, currency: str, amount: int) -> None:
        oid = f"o{len(self.orders)}"
        r = self.p.order(oid, amount, customer=f"c{len(self.orders)}", currency=currency, at=self.clock.t,
                         referral_code=code)
        assert r.status_code == 201, r.body
        self.orders.append([oid, amount, currency])

    def refund(self, index: int, share: float) -> None:
        if not self.orders:
            return
        order = self.orders[index % len(self.orders)]
        oid, left, currency = order
        amount = int(left * share)
        if amount <= 0:
            return
        r = self.p.refund(oid, f"r-{left}", amount, currency=currency, at=self.clock.t)
        assert r.status_code == 201, r.body
        order[1] -= amount

    def batches(self) -> dict[str, dict]:
        body = json.loads(self.p.c.get("/settlements", headers=auth("finance")).body)
        return {b["period"]: b for b in body["batches"]}

    def finance(self, step: tuple) -> None:
        batches = self.batches()
        if step[0] in ("approve", "pay"):
            want = "draft" if step[0] == "approve" else "approved"
            todo = sorted(p for p, b in batches.items() if b["status"] == want)
            if todo:
                path = f"/settlements/{todo[0]}/{'approve' if step[0] == 'approve' else 'paid'}"
                assert self.p.c.post(path, headers=auth("finance", subject="finance-2"), body=b'{"reason": "bank statement"}').status_code == 200
            return
        _, index, confirm = step
        payouts = [(p, ln) for p, b in sorted(batches.items()) if b["status"] in ("approved", "paid")
                   for ln in self.p.lines(p).values() if ln["payout_minor"] > 0 and not ln["payout_status"]]
        if not payouts:
            return
        period, ln = payouts[index % len(payouts)]
        path = f"/settlements/{period}/payouts/{ln['partner_id']}/{ln['currency']}/failed"
        assert self.p.c.post(path, headers=auth("finance", subject="finance-2"),
                             body=dumps({"reason": "returned by the bank"})).status_code == 200
        if confirm:
            r = self.p.c.post(path + "/confirm", headers=auth("finance", subject="finance-3"), body=b'{"reason": "bank statement"}')
            assert r.status_code == 200, r.body

    def shown(self) -> dict[tuple[str, str], dict[str, int]]:
        return {(f"P-{code}", cur): t for code in CODES for cur, t in self.p.commissions(code)["totals"].items()}

    def settle(self) -> None:
        """The scheduled run; what each partner was shown as payable just before is what it pays."""
        before = self.shown()
        items_before = {(i["PK"], i["SK"]) for i in table_snapshot()}
        run_daily(bootstrap.settlement(fan_out=False), self.clock.t, by="finance-1")
        new = [i for i in table_snapshot() if (i["PK"], i["SK"]) not in items_before]
        expected: dict[tuple[str, str], int] = defaultdict(int)
        for i in new:
            if i["SK"].startswith("LINE#"):
                expected[(i["partner_id"], i["currency"])] += i["payout_minor"]
            elif i["PK"].startswith("LEDGER#") and i.get("kind") == "bonus":
                expected[(i["partner_id"], i["currency"])] -= i["amount_minor"]
        carries = {(i["partner_id"], i["currency"]): i["amount_minor"] for i in table_snapshot()
                   if i["SK"].startswith("CARRY#")}
        for key in set(before) | set(expected) | set(carries):
            shown = before.get(key, {}).get("payable", 0)
            assert shown == expected.get(key, 0) + carries.get(key, 0), (key, before.get(key), expected.get(key))

    def check(self) -> None:
        items = table_snapshot()
        ledger: dict[tuple[str, str], int] = defaultdict(int)
        for i in items:
            if i["PK"].startswith("LEDGER#") and "entry_id" in i:  # an entry, not a sale posting
                ledger[(i["partner_id"], i["currency"])] += i["amount_minor"]
        status = {i["period"]: i["status"] for i in items if i["SK"] == "BATCH"}
        payouts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for i in items:
            if i["SK"].startswith("LINE#"):
                fate = ("returned" if i.get("payout_status") == "failed" else
                        "paid" if status[i["period"]] == "paid" else "in_payment")
                payouts[(i["partner_id"], i["currency"])][fate] += i["payout_minor"]
        shown = self.shown()
        for key in set(ledger) | set(shown):
            t = shown.get(key, {})
            assert sum(t.values()) == ledger[key], (key, t, ledger[key])  # each minor unit once
            for state in ("paid", "in_payment", "returned"):
                assert t.get(state, 0) == payouts[key][state], (key, state, t, dict(payouts[key]))
        for code in CODES:  # the dashboard's chart counts the same units, in the same states
            months = json.loads(self.p.c.get(f"/partners/P-{code}/earnings",
                                             headers=auth("partner", f"P-{code}")).body)["months"]
            by_state: dict[tuple[str, str], int] = defaultdict(int)
            for m in months:
                for cur, states in m["currencies"].items():
                    for state, amount in states.items():
                        by_state[(cur, state)] += amount
            for (pid, cur), t in shown.items():
                if pid == f"P-{code}":
                    assert all(by_state[(cur, s)] == v for s, v in t.items()), (pid, cur, t, dict(by_state))


@settings(max_examples=int(os.environ.get("UPLINE_BALANCE_EXAMPLES", 6)), deadline=None,
          suppress_health_check=list(HealthCheck))
@example(min_payout=20_000, holding_days=10, months=RICH)
@given(min_payout=st.sampled_from([0, 5_000, 20_000]), holding_days=st.sampled_from([0, 10, 40]),
       months=st.lists(MONTH, min_size=2, max_size=4))
def test_partners_are_shown_each_unit_once_and_as_payable_what_the_next_settlement_run_pays(
        min_payout, holding_days, months, tmp_path_factory):
    clock = Clock(START)
    real_now = bootstrap.now
    with mock_aws(), fast_moto():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, os.environ["UPLINE_TABLE"])
        wire(client)
        bootstrap.now = clock
        bootstrap.use_files(FolderFiles(tmp_path_factory.mktemp("exports")))
        try:
            with Client(__import__("app").app, stage_name="test") as api:
                p = Settling(api, clock)
                p.publish_plan({"levels_bps": [1000, 500], "holding_days": holding_days,
                                "min_payout_minor": min_payout, "effective_from": "2026-08-01T00:00:00Z",
                                "bonus": {"currency": "USD", "basis": "personal", "ladder": [
                                    {"threshold_minor": 200_000, "flat_minor": 3_000}]}})
                p.chain(list(CODES))
                h = History(p, clock)
                for events, days, settle, finance in months:
                    for kind, *args in events:
                        getattr(h, kind)(*args)
                    clock.t += timedelta(days=days)
                    if settle:
                        h.settle()
                    for step in finance:
                        h.finance(step)
                    h.check()
        finally:
            bootstrap.now = real_now
            bootstrap.reset()
