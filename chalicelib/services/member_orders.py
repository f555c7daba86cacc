"""The member side of the order path: the buyer's member profile, the reward programs and a named
coupon ride the order's first read (`MemberRepo.for_order`, a `Reads[BuyerContext]`); what they
decide joins the order's one transaction. A refund needs only what the order stored, so it stays one
read and one write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..domain import rewards as rw
from ..domain import tiers as tr
from ..domain.members import member_id_for
from ..domain.notifications import TIER_CHANGED, notify
from ..domain.orders import OrderCommand, RecordedOrder, RefundCommand
from ..store.items import iso
from ..store.members import BuyerContext, MemberRepo, RefusalRecord
from ..store.uow import TransactOp


@dataclass
class OrderEffects:
    """What an order means for its buyer as a member: the writes that join the order's transaction,
    the `member` part of the order's result, and the `coupon` part (applied or why not)."""

    writes: list[TransactOp] = field(default_factory=list)
    result: dict[str, Any] | None = None
    coupon: dict[str, Any] | None = None


def order_effects(buyer: BuyerContext | None, cmd: OrderCommand, now: datetime, members: MemberRepo) -> OrderEffects:
    """What an order means for its buyer if the buyer is a member: activity toward its tier (an
    upgrade applies at once), the pending advocate reward if it is the first qualifying order of an
    invited friend, and the use of a coupon. Pure decisions over what the first read brought."""
    out = OrderEffects()
    buyer = buyer or BuyerContext(None, (), None)
    mid = member_id_for(cmd.customer_hash)
    program = rw.program_in_force(buyer.programs, cmd.ordered_at)
    if cmd.coupon_code:
        out.coupon = _coupon_use(buyer, cmd, mid)
        if out.coupon["status"] == "applied":
            out.writes.append(members.coupon_used(cmd.coupon_code, cmd.order_id, now))
    if buyer.member is None:
        return out
    member = buyer.member.member
    day = tr.day_key(cmd.ordered_at)
    spend = cmd.amount_minor if cmd.currency == program.currency else 0
    days = tr.merge_days([*member.days.items(), (day, tr.Activity(spend, 1, 0))])
    act = tr.activity_in_window(days, max(now, cmd.ordered_at), program.tiers)
    tier = tr.after_activity(member.tier, act, program.tiers)
    upgraded = tier.tier != member.tier.tier
    qualifies = (
        member.advocate_id is not None
        and member.first_order_id is None
        and cmd.currency == program.currency
        and cmd.amount_minor >= program.min_order_minor
    )
    out.writes.append(
        members.order_recorded(
            mid, day, spend, cmd.order_id if qualifies else None, tier if tier != member.tier else None, now
        )
    )
    result: dict[str, Any] = {
        "member_id": mid,
        "tier": tier.tier,
        "tier_changed": upgraded,
        "spend_day": day,
        "spend_counted": spend > 0,
        "advocate_reward": None,
    }
    if upgraded:
        out.writes.append(
            members.new_notification(
                notify(
                    f"tier#{cmd.order_id}",
                    mid,
                    TIER_CHANGED,
                    {"from": member.tier.tier, "to": tier.tier},
                    now,
                    member.quiet,
                )
            )
        )
    if qualifies and member.advocate_id and cmd.payment_hash and cmd.payment_hash == buyer.member.advocate_payment_hash:
        refusal = rw.SELF_INVITE_PAYMENT
        out.writes.append(
            members.new_refusal(
                RefusalRecord(rw.advocate_reward_id(mid), member.advocate_id, mid, refusal.code, refusal.message, now)
            )
        )
        result["advocate_reward"] = {
            "advocate_id": member.advocate_id,
            "state": rw.REFUSED,
            "reason": {"code": refusal.code, "message": refusal.message},
        }
    elif qualifies and member.advocate_id:
        reward = rw.AdvocateReward(
            rw.advocate_reward_id(mid),
            member.advocate_id,
            mid,
            cmd.order_id,
            program.advocate_reward.kind,
            program.advocate_reward.amount,
            cmd.ordered_at,
            cmd.ordered_at + timedelta(days=program.holding_days),
            program.version,
            program.cap_per_month,
            program.cap_per_year,
            program.expiry_days,
        )
        out.writes.append(members.new_reward(reward))
        result["advocate_reward"] = {
            "advocate_id": reward.advocate_id,
            "reward_id": reward.reward_id,
            "state": rw.PENDING,
            "matures_at": iso(reward.matures_at),
            "min_order_minor": program.min_order_minor,
        }
    out.result = result
    return out


def _coupon_use(buyer: BuyerContext, cmd: OrderCommand, mid: str) -> dict[str, Any]:
    def no(code: str, message: str) -> dict[str, Any]:
        return {"code": cmd.coupon_code, "status": "not_applied", "reason": code, "message": message}

    coupon = buyer.coupon
    if buyer.coupon_unreadable:
        return no("coupon_unreadable", "the coupon's record could not be read")
    if coupon is None:
        return no("unknown_coupon", "no such coupon")
    if coupon.used_by_order:
        return no("coupon_used", f"the coupon was already used by order {coupon.used_by_order}")
    if coupon.member_id != mid:
        return no("coupon_not_yours", "the coupon belongs to another member")
    if cmd.ordered_at >= coupon.expires_at:
        return no("coupon_expired", "the coupon had expired")
    if coupon.currency != cmd.currency or cmd.amount_minor < coupon.min_order_minor:
        return no("coupon_not_applicable", "the order does not meet the coupon's currency or minimum")
    if coupon.for_order and coupon.for_order != cmd.order_id:
        return no("coupon_for_another_order", "the coupon was issued for another order")
    return {"code": coupon.code, "status": "applied", "value_minor": coupon.value_minor, "currency": coupon.currency}


def refund_writes(order: RecordedOrder, cmd: RefundCommand, members: MemberRepo) -> list[TransactOp]:
    """A refund lowers the buyer's spend; if it takes a friend's first qualifying order below the
    program minimum, it marks the advocate reward refunded: cancelled if that is within the holding
    period, clawed back if the reward was already earned."""
    m = (order.result or {}).get("member")
    if not m:
        return []
    adv = m.get("advocate_reward")
    if adv and "reward_id" not in adv:
        adv = None  # refused at the order: nothing pending to cancel
    net_after = order.amount_minor - order.refunded_minor - cmd.amount_minor
    writes: list[TransactOp] = []
    if m.get("spend_counted"):
        writes.append(members.spend_refunded(m["member_id"], m["spend_day"], cmd.amount_minor))
    if adv and net_after < adv["min_order_minor"]:
        writes.append(members.reward_refunded(adv["advocate_id"], adv["reward_id"], cmd.refund_id, cmd.refunded_at))
    return writes
