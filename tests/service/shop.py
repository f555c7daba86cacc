"""Drive the member use cases as the shop, members and admins do, on a unit of work, with a clock
the test moves. `buy` and `refund` stand in for the order path's member part: they read the buyer
along with the order (OrderRepo.context(..., also=MemberRepo.for_order(...))) and commit what the
member hooks decide, as the order's one transaction would."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any

from chalicelib.domain.notifications import QuietHours
from chalicelib.domain.orders import OrderCommand, RecordedOrder, RefundCommand
from chalicelib.domain.rewards import Reward
from chalicelib.services import member_orders as hooks
from chalicelib.services import member_settle
from chalicelib.services import members as svc
from chalicelib.store.members import MemberState
from chalicelib.store.memory import MemoryTable
from chalicelib.store.repositories import Repositories
from chalicelib.store.uow import UnitOfWork

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
PROGRAM: dict[str, Any] = {
    "currency": "USD", "friend_reward": Reward("coupon", 1000), "advocate_reward": Reward("points", 500),
    "min_order_minor": 2000, "holding_days": 14, "expiry_days": 60, "cap_per_month": 2, "cap_per_year": 3,
    "point_value_minor": 2, "effective_from": datetime(2020, 1, 1, tzinfo=timezone.utc)}


def hashed(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Interleaved:
    """The twin, letting another writer in just before the next transaction: a race, made
    deterministic (the twin itself runs one call at a time)."""

    def __init__(self, inner: MemoryTable):
        self.inner = inner
        self.before: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def commit(self, operations: list[Any], token: str | None = None) -> None:
        hook, self.before = self.before, None
        if hook is not None:
            hook()
        self.inner.commit(operations, token)


@dataclass
class Order:
    cmd: OrderCommand
    effects: hooks.OrderEffects
    refunded: int = 0


class Shop:
    def __init__(self, uow: UnitOfWork, at: datetime = T0):
        self.uow = uow
        self.at = at
        self.ids: dict[str, str] = {}
        self.codes: dict[str, str] = {}
        self.orders: dict[str, Order] = {}

    def advance(self, **kw: Any) -> datetime:
        self.at += timedelta(**kw)
        return self.at

    def meanwhile(self, action: Any) -> None:
        """Just before this shop's next transaction, another writer (a Shop with its own unit of work
        over the same table) does `action(rival)`."""
        rival = Shop(UnitOfWork(Repositories(self.uow.table.inner)), self.at)
        rival.ids, rival.codes, rival.orders = self.ids, self.codes, self.orders
        self.uow.table.before = lambda: action(rival)

    # ---- admin -------------------------------------------------------------------------------
    def publish(self, **overrides: Any):
        return svc.publish_program(self.uow, {**PROGRAM, **overrides}, "admin", self.at)

    def daily(self) -> dict[str, int]:
        return member_settle.daily(self.uow, self.at)

    # ---- the shop ----------------------------------------------------------------------------
    def register(self, name: str, invite_from: str | None = None, *, invite_code: str | None = None,
                 email: str | None = None, phone: str | None = None, payment: str | None = None,
                 tz: str = "UTC", fingerprint: str | None = None) -> tuple[dict[str, Any], bool]:
        cmd = svc.RegisterCommand(
            customer_hash=hashed(f"cust-{name}"), fingerprint=fingerprint or f"fp-{name}",
            email_hash=hashed(email or f"{name}@example.com"), phone_hash=hashed(phone) if phone else None,
            payment_hash=hashed(payment) if payment else None,
            invite_code=invite_code or (self.codes[invite_from] if invite_from else None),
            quiet=QuietHours(tz, time(21, 0), time(9, 0)))
        view, created = svc.register(self.uow, cmd, self.at)
        self.ids[name], self.codes[name] = view["member_id"], view["invite_code"]
        return view, created

    def buy(self, name: str, order_id: str, amount: int, *, currency: str = "USD", coupon: str | None = None,
            payment: str | None = None) -> hooks.OrderEffects:
        cmd = OrderCommand(order_id, hashed(f"cust-{name}"), amount, currency, self.at, f"fp-{order_id}",
                           coupon_code=coupon, payment_hash=hashed(payment) if payment else None)
        ctx = self.uow.orders.context(cmd.order_id, None, None, cmd.customer_hash,
                                      also=self.uow.members.for_order(cmd.customer_hash, cmd.coupon_code))
        effects = hooks.order_effects(ctx.also, cmd, self.at, self.uow.members)
        self.uow.add(*effects.writes)
        self.uow.commit()
        self.orders[order_id] = Order(cmd, effects)
        return effects

    def refund(self, order_id: str, refund_id: str, amount: int) -> None:
        o = self.orders[order_id]
        recorded = RecordedOrder(order_id, o.cmd.fingerprint, o.cmd.amount_minor, o.cmd.currency, o.cmd.ordered_at,
                                 o.refunded, (), {"member": o.effects.result} if o.effects.result else {})
        cmd = RefundCommand(order_id, refund_id, amount, o.cmd.currency, self.at, f"fp-{refund_id}")
        self.uow.add(*hooks.refund_writes(recorded, cmd, self.uow.members))
        self.uow.commit()
        o.refunded += amount

    # ---- members -----------------------------------------------------------------------------
    def redeem(self, name: str, redemption_id: str, amount: int, unit: str = "points",
               fingerprint: str | None = None) -> tuple[dict[str, Any], bool]:
        cmd = svc.RedeemCommand(redemption_id, unit, amount, fingerprint or f"fp-{redemption_id}-{amount}")
        return svc.redeem(self.uow, self.ids[name], cmd, self.at)

    def rewards(self, name: str) -> dict[str, Any]:
        return svc.rewards_view(self.uow, self.ids[name], self.at)

    def tier(self, name: str) -> dict[str, Any]:
        return svc.tier_view(self.uow, self.ids[name], self.at)

    def state(self, name: str) -> MemberState:
        st = self.uow.members.state(self.ids[name])
        assert st is not None
        return st
