"""The member side of the order path: the buyer's member item, the reward programs and a named
coupon ride the order's first read; what they decide joins the order's one transaction. A refund
needs only what the order stored, so it stays one read and one write."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..domain import rewards as rw
from ..domain import tiers as tr
from ..domain.members import member_id_for
from ..domain.notifications import TIER_CHANGED, notify
from ..domain.orders import OrderCommand, RecordedOrder, RefundCommand
from ..store import keys
from ..store.members import MemberStore, member_from, programs_from
from ..store.readable import UnreadableRecord, read_one
from ..store.repository import iso


@dataclass
class OrderEffects:
    ops: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    coupon: dict[str, Any] | None = None


def order_keys(cmd: OrderCommand) -> list[keys.Key]:
    wanted = [keys.member(member_id_for(cmd.customer_hash)), keys.reward_programs()]
    if cmd.coupon_code:
        wanted.append(keys.coupon(cmd.coupon_code))
    return wanted


def order_effects(found: dict[keys.Key, dict[str, Any]], cmd: OrderCommand, now: datetime) -> OrderEffects:
    """What an order means for its buyer if the buyer is a member: activity toward its tier (an
    upgrade applies at once), the pending advocate reward if it is the first qualifying order of an
    invited friend, and the use of a coupon. Pure decisions over what the first read brought."""
    out = OrderEffects()
    mid = member_id_for(cmd.customer_hash)
    profile = found.get(keys.member(mid))
    program = rw.program_in_force(programs_from(found.get(keys.reward_programs())), cmd.ordered_at)
    # The member side never stops the order: a coupon or profile that cannot be read is reported
    # (store/readable.py) and the order is recorded without it.
    if cmd.coupon_code:
        coupon_key = keys.coupon(cmd.coupon_code)
        try:
            out.coupon = read_one("/".join(coupon_key), lambda item: _coupon_use(item, cmd, mid, now),
                                  found.get(coupon_key))
        except UnreadableRecord:
            out.coupon = {"code": cmd.coupon_code, "status": "not_applied", "reason": "coupon_unreadable",
                          "message": "the coupon's record could not be read"}
        if out.coupon["status"] == "applied":
            out.ops.append(MemberStore.use_coupon(cmd.coupon_code, cmd.order_id, now))
    if profile is None:
        return out
    try:
        member = read_one("/".join(keys.member(mid)), member_from, profile)
    except UnreadableRecord:
        return out
    day = tr.day_key(cmd.ordered_at)
    spend = cmd.amount_minor if cmd.currency == program.currency else 0
    days = tr.merge_days([*member.days.items(), (day, tr.Activity(spend, 1, 0))])
    act = tr.activity_in_window(days, max(now, cmd.ordered_at), program.tiers)
    tier = tr.after_activity(member.tier, act, program.tiers)
    upgraded = tier.tier != member.tier.tier
    qualifies = (member.advocate_id is not None and member.first_order_id is None
                 and cmd.currency == program.currency and cmd.amount_minor >= program.min_order_minor)
    out.ops.append(MemberStore.record_order(mid, day, spend, 1, cmd.order_id if qualifies else None,
                                            tier if tier != member.tier else None, now))
    result: dict[str, Any] = {"member_id": mid, "tier": tier.tier, "tier_changed": upgraded, "spend_day": day,
                              "spend_counted": spend > 0, "advocate_reward": None}
    if upgraded:
        out.ops.append(MemberStore.put_notification(notify(
            f"tier#{cmd.order_id}", mid, TIER_CHANGED, {"from": member.tier.tier, "to": tier.tier}, now, member.quiet)))
    if qualifies and cmd.payment_hash and cmd.payment_hash == profile.get("advocate_payment_hash"):
        refusal = rw.SELF_INVITE_PAYMENT
        out.ops.append(MemberStore.put_refusal(member.advocate_id, rw.advocate_reward_id(mid), refusal, mid, now))
        result["advocate_reward"] = {"advocate_id": member.advocate_id, "state": rw.REFUSED,
                                     "reason": {"code": refusal.code, "message": refusal.message}}
    elif qualifies:
        reward = rw.AdvocateReward(
            rw.advocate_reward_id(mid), member.advocate_id, mid, cmd.order_id, program.advocate_reward.kind,
            program.advocate_reward.amount, cmd.ordered_at, cmd.ordered_at + timedelta(days=program.holding_days),
            program.version, program.cap_per_month, program.cap_per_year, program.expiry_days)
        out.ops.append(MemberStore.put_reward(reward))
        result["advocate_reward"] = {"advocate_id": reward.advocate_id, "reward_id": reward.reward_id,
                                     "state": rw.PENDING, "matures_at": iso(reward.matures_at),
                                     "min_order_minor": program.min_order_minor}
    out.result = result
    return out


def _coupon_use(item: dict[str, Any] | None, cmd: OrderCommand, mid: str, now: datetime) -> dict[str, Any]:
    def no(code: str, message: str) -> dict[str, Any]:
        return {"code": cmd.coupon_code, "status": "not_applied", "reason": code, "message": message}
    if item is None:
        return no("unknown_coupon", "no such coupon")
    if item.get("used_by_order"):
        return no("coupon_used", f"the coupon was already used by order {item['used_by_order']}")
    if item["member_id"] != mid:
        return no("coupon_not_yours", "the coupon belongs to another member")
    if iso(cmd.ordered_at) >= item["expires_at"]:
        return no("coupon_expired", "the coupon had expired")
    if item["currency"] != cmd.currency or cmd.amount_minor < item["min_order_minor"]:
        return no("coupon_not_applicable", "the order does not meet the coupon's currency or minimum")
    if item.get("for_order") and item["for_order"] != cmd.order_id:
        return no("coupon_for_another_order", "the coupon was issued for another order")
    return {"code": item["code"], "status": "applied", "value_minor": item["value_minor"],
            "currency": item["currency"]}


def refund_ops(order: RecordedOrder, cmd: RefundCommand) -> list[dict[str, Any]]:
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
    cancels = bool(adv) and net_after < adv["min_order_minor"]
    note = {"member_id": m["member_id"], "day": m["spend_day"], "spend_counted": m["spend_counted"],
            "advocate_id": adv["advocate_id"] if adv else None, "reward_id": adv["reward_id"] if adv else None}
    return MemberStore.record_refund(note, cmd.refund_id, cmd.refunded_at, cmd.amount_minor, cancels)


