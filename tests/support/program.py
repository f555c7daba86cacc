"""Drive the API the way the shop, admins and partners do."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib import bootstrap
from chalicelib.store import dynamo
from tests.support.helpers import auth, dumps, signed_headers

WORKED_PLAN = {"levels_bps": [1000, 500, 200], "cap_bps": 2000, "effective_from": "2020-01-01T00:00:00Z"}


class Program:
    def __init__(self, client: Any):
        self.c = client.http

    def publish_plan(self, plan: dict = WORKED_PLAN) -> dict:
        r = self.c.post("/admin/plans", headers=auth("admin"), body=dumps(plan))
        assert r.status_code == 201, r.body
        return json.loads(r.body)

    def enrol(self, code: str, sponsor: str | None = None, **extra) -> dict:
        body = {"name": code.title(), "code": code, **({"sponsor_code": sponsor} if sponsor else {}), **extra}
        r = self.c.post("/partners", headers=auth("admin"), body=dumps(body))
        assert r.status_code in (200, 201), r.body
        return json.loads(r.body)

    def chain(self, codes: list[str]) -> None:
        """Enrol codes[0] at the top, each next one under the previous."""
        sponsor = None
        for code in codes:
            self.enrol(code, sponsor)
            sponsor = code

    def link(self, code: str, destination: str = "https://shop.example.com/p") -> str:
        r = self.c.post("/links", headers=auth("partner", f"P-{code}"), body=dumps({"destination": destination}))
        assert r.status_code == 201, r.body
        return json.loads(r.body)["code"]

    def follow(self, link_code: str) -> str:
        r = self.c.get(f"/r/{link_code}", headers={"User-Agent": "pytest"})
        assert r.status_code == 302, r.body
        return r.headers["Location"].split("upline_click=")[1]

    @staticmethod
    def order_body(order_id: str, amount: int, customer: str = "cust-1", currency: str = "USD",
                   at: datetime | None = None, **extra) -> bytes:
        at = at or datetime.now(timezone.utc)
        return dumps({"order_id": order_id, "customer_id": customer, "amount_minor": amount,
                      "currency": currency, "ordered_at": at.isoformat(), **extra})

    @staticmethod
    def refund_body(order_id: str, refund_id: str, amount: int, currency: str = "USD",
                    at: datetime | None = None) -> bytes:
        at = at or datetime.now(timezone.utc) + timedelta(seconds=1)
        return dumps({"order_id": order_id, "refund_id": refund_id, "amount_minor": amount, "currency": currency,
                      "refunded_at": at.isoformat()})

    def post(self, path: str, body: bytes) -> Any:
        """A webhook call, freshly signed (by the app's clock, which a test may have moved)."""
        return self.c.post(path, headers=signed_headers(body, at=int(bootstrap.now().timestamp())), body=body)

    def order(self, order_id: str, amount: int, **kw) -> Any:
        return self.post("/webhooks/orders", self.order_body(order_id, amount, **kw))

    def refund(self, order_id: str, refund_id: str, amount: int, **kw) -> Any:
        return self.post("/webhooks/refunds", self.refund_body(order_id, refund_id, amount, **kw))

    def commissions(self, partner_code: str) -> dict:
        r = self.c.get(f"/partners/P-{partner_code}/commissions", headers=auth("partner", f"P-{partner_code}"))
        assert r.status_code == 200, r.body
        return json.loads(r.body)

    def net(self, partner_code: str, currency: str = "USD") -> int:
        return sum(e["amount_minor"] for e in self.commissions(partner_code)["entries"] if e["currency"] == currency)


def credited(response: Any) -> dict[str, int]:
    return {c["partner_id"]: c["amount_minor"] for c in json.loads(response.body)["commissions"]}


def table_snapshot() -> list[dict]:
    """Every item in the table, sorted: to show a request wrote nothing."""
    table = bootstrap.table()
    items, kwargs = [], {"TableName": table.name, "ConsistentRead": True}
    while True:
        resp = table.client.scan(**kwargs)
        items += [dynamo.decode(i) for i in resp["Items"]]
        if "LastEvaluatedKey" not in resp:
            break
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return sorted(items, key=lambda i: (i["PK"], i["SK"]))


def ledger_items() -> list[dict]:
    """The ledger's entries (commissions, reversals, bonuses, payouts...), not its sale postings."""
    return [i for i in table_snapshot() if i["PK"].startswith("LEDGER#") and "entry_id" in i]


def sale_postings() -> list[dict]:
    """What counted orders towards partners' volumes (store/ledger.LedgerRepo.sale)."""
    return [i for i in table_snapshot() if i["PK"].startswith("LEDGER#") and "sale_partner" in i]


def store_link(ref, at: datetime) -> None:
    """A link as an older release stored it, before any of today's checks (straight to the table)."""
    uow = bootstrap.uow()
    uow.add(uow.links.new(ref, at))
    uow.commit()


def project_figures() -> int:
    """Run the stream projector over what the table's stream holds (as Lambda would, moments after
    the writes): partners' counters and the fraud rules' figures catch up."""
    from scripts import stream

    return stream.drain(bootstrap.uow())


def past_the_fence(monkeypatch: Any) -> None:
    """Let the fence pass: the app's clock (bootstrap.now) moves on by UPLINE_FENCE_SECONDS and a
    second, so a change of status, rank or sponsor made without an instant is in effect from here
    on (docs/architecture.md, "Standings are scheduled"). A test clock with `t` is moved; the real
    clock is shifted for the rest of the test."""
    step = timedelta(seconds=bootstrap.settings().fence_seconds + 1)
    clock = bootstrap.now
    if hasattr(clock, "t"):
        clock.t += step
    else:
        monkeypatch.setattr(bootstrap, "now", lambda: clock() + step)
