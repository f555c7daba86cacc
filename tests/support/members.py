"""Drive the member API the way the shop, members and admins do."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib import bootstrap
from tests.support.helpers import auth, dumps, signed_headers
from tests.support.program import Program

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
PROGRAM = {"currency": "USD", "friend_reward": {"kind": "coupon", "amount": 1000},
           "advocate_reward": {"kind": "points", "amount": 500}, "min_order_minor": 2000, "holding_days": 14,
           "expiry_days": 60, "cap_per_month": 2, "cap_per_year": 3, "point_value_minor": 2,
           "effective_from": "2020-01-01T00:00:00Z"}


class Clock:
    """bootstrap.now, under the test's control."""

    def __init__(self, monkeypatch, at: datetime = T0):
        self.at = at
        monkeypatch.setattr(bootstrap, "now", lambda: self.at)

    def advance(self, **kw) -> datetime:
        self.at += timedelta(**kw)
        return self.at


class Members(Program):
    def __init__(self, client: Any, clock: Clock):
        super().__init__(client)
        self.clock = clock
        self.ids: dict[str, str] = {}
        self.sent: list[tuple[str, bytes]] = []  # every signed call, to replay
        self.codes: dict[str, str] = {}

    def signed(self, path: str, body: bytes) -> Any:
        self.sent.append((path, body))
        return self.c.post(path, headers=signed_headers(body, at=int(self.clock.at.timestamp())), body=body)

    def publish_rewards(self, **overrides) -> dict:
        r = self.c.post("/admin/reward-programs", headers=auth("admin"), body=dumps({**PROGRAM, **overrides}))
        assert r.status_code == 201, r.body
        return json.loads(r.body)

    def register_raw(self, name: str, invite: str | None = None, **extra) -> Any:
        body = {"customer_id": f"cust-{name}", "email": f"{name}@example.com", **extra}
        if invite:
            body["invite_code"] = invite
        return self.signed("/webhooks/members", dumps(body))

    def register(self, name: str, invite_from: str | None = None, **extra) -> dict:
        r = self.register_raw(name, self.codes[invite_from] if invite_from else None, **extra)
        assert r.status_code in (200, 201), r.body
        view = json.loads(r.body)
        self.ids[name], self.codes[name] = view["member_id"], view["invite_code"]
        return view

    def buy(self, name: str, order_id: str, amount: int, **kw) -> Any:
        body = self.order_body(order_id, amount, customer=f"cust-{name}", at=self.clock.at, **kw)
        return self.signed("/webhooks/orders", body)

    def refund_of(self, order_id: str, refund_id: str, amount: int) -> Any:
        return self.signed("/webhooks/refunds", self.refund_body(order_id, refund_id, amount,
                                                                 at=self.clock.at + timedelta(seconds=1)))

    def me(self, name: str) -> dict[str, str]:
        return auth("member", member_id=self.ids[name], subject=f"sub-{name}")

    def rewards(self, name: str) -> dict:
        r = self.c.get(f"/members/{self.ids[name]}/rewards", headers=self.me(name))
        assert r.status_code == 200, r.body
        return json.loads(r.body)

    def tier(self, name: str) -> dict:
        r = self.c.get(f"/members/{self.ids[name]}/tier", headers=self.me(name))
        assert r.status_code == 200, r.body
        return json.loads(r.body)

    def redeem(self, name: str, redemption_id: str, amount: int, unit: str = "points", **extra) -> Any:
        return self.c.post(f"/members/{self.ids[name]}/redemptions", headers=self.me(name),
                           body=dumps({"redemption_id": redemption_id, "unit": unit, "amount": amount, **extra}))


def error_code(response: Any) -> str:
    return json.loads(response.body)["error"]["code"]
