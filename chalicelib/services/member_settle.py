"""Writing down what time decided for a member: earned, expired and clawed-back rewards, cap
refusals, notifications, tier changes and the monthly review. Used by redemption and the daily job."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..domain import rewards as rw
from ..domain import tiers as tr
from ..domain.errors import AlreadyExists, ConcurrentUpdate, DomainError, NotFound
from ..domain.notifications import REWARD_EARNED, REWARD_EXPIRING, TIER_CHANGED, notify
from ..store.members import MemberState, MemberStore, day_attr
from ..observability import logger
from ..store.items import iso

ATTEMPTS = 5


@dataclass
class Settled:
    new: list[rw.RewardEntry]
    entries: list[rw.RewardEntry]
    states: dict[str, tuple[str, rw.Refusal | None]]
    ops: list[dict[str, Any]]
    balances: dict[str, int]
    tier: tr.TierState
    invites_on: dict[str, int]


def settle(st: MemberState, program: rw.RewardProgram, now: datetime) -> Settled:
    """The entries, refusals and notifications that time and refunds call for, not yet written, as
    operations (without the profile update, which the caller adds once)."""
    m = st.member
    multiplier = program.tiers.rule(m.tier.tier).advocate_multiplier_bps
    written = {rid: rw.Refusal(i["code"], i["message"]) for rid, i in st.refusals.items()
               if not rid.startswith("invite#") and i["code"] != rw.ORDER_REFUNDED.code}
    new, states = rw.due_entries(m.member_id, st.rewards, st.entries, multiplier, now, refused=written)
    ops: list[dict[str, Any]] = [MemberStore.put_entry(e) for e in new]
    by_id = {r.reward_id: r for r in st.rewards}
    for reward_id, (state, refusal) in sorted(states.items()):
        r = by_id[reward_id]
        # A cap refusal is final once the reward's holding has passed; a cancellation by refund at once.
        final = (state == rw.REFUSED and now >= r.matures_at) or state == rw.CANCELLED
        if final and reward_id not in st.refusals:
            ops.append(MemberStore.put_refusal(m.member_id, reward_id, refusal, r.friend_id,
                                               min(now, r.matures_at) if state == rw.REFUSED else now))
    invites_on: dict[str, int] = {}
    for e in new:
        if e.kind == rw.EARN:
            note_id = f"earned#{e.entry_id}"
            if note_id not in st.outbox:
                ops.append(MemberStore.put_notification(notify(
                    note_id, m.member_id, REWARD_EARNED, {"unit": e.unit, "amount": e.amount, "why": "invite"},
                    now, m.quiet)))
            day = tr.day_key(e.occurred_at)
            invites_on[day] = invites_on.get(day, 0) + 1
    entries = rw.with_entries(st.entries, new)
    days = tr.merge_days([*m.days.items(), *((d, tr.Activity(0, 0, n)) for d, n in invites_on.items())])
    tier = tr.after_activity(m.tier, tr.activity_in_window(days, now, program.tiers), program.tiers)
    if tier.tier != m.tier.tier:
        ops.append(MemberStore.put_notification(notify(
            f"tier#{m.ledger_seq}", m.member_id, TIER_CHANGED, {"from": m.tier.tier, "to": tier.tier}, now, m.quiet)))
    balances = {u: rw.balance(entries, u) for u in rw.UNITS}
    return Settled(new, entries, states, ops, balances, tier, invites_on)


def load(store: MemberStore, member_id: str) -> MemberState:
    st = store.state(member_id)
    if st is None:
        raise NotFound(f"no member {member_id}", code="unknown_member")
    return st


def daily(store: MemberStore, now: datetime) -> dict[str, int]:
    """Write down what time decided for every member: earned and expired rewards, cap refusals,
    expiry reminders, the monthly tier review (downgrades only here, after grace), old activity
    buckets pruned. Safe to run again: every write is conditional and every id deterministic."""
    programs = store.programs()
    counts = {"members": 0, "changed": 0, "busy": 0, "failed": 0}
    for member_id in store.member_ids():
        counts["members"] += 1
        for _ in range(ATTEMPTS):
            try:
                counts["changed"] += settle_member(store, member_id, rw.program_in_force(programs, now), now)
                break
            except (AlreadyExists, ConcurrentUpdate):
                continue  # a redemption or an order moved this member meanwhile: read again
            except DomainError:
                # e.g. more due writes than one transaction holds: this member waits, the others go on
                logger.exception("members_daily: member not settled", extra={"member_id": member_id})
                counts["failed"] += 1
                break
        else:
            counts["busy"] += 1
    return counts


def settle_member(store: MemberStore, member_id: str, program: rw.RewardProgram, now: datetime) -> int:
    st = load(store, member_id)
    m = st.member
    s = settle(st, program, now)
    ops = list(s.ops)
    for unit in rw.UNITS:
        for lot, left, expires_at in rw.expiring_soon(s.entries, unit, now, program.expiry_notice_days):
            note_id = f"expiring#{lot}"
            if note_id not in st.outbox:
                ops.append(MemberStore.put_notification(notify(
                    note_id, member_id, REWARD_EXPIRING, {"unit": unit, "amount": left, "expires_at": iso(expires_at)},
                    now, m.quiet)))
    tier, also = s.tier, {}
    month = tr.review_month(now)
    if st.profile.get("reviewed_month") != month and m.created_at.strftime("%Y-%m") < month:
        reviewed = tr.monthly_review(tier, tr.activity_in_window(m.days, now, program.tiers), month, program.tiers)
        if reviewed.tier != tier.tier:
            ops.append(MemberStore.put_notification(notify(
                f"tier#{month}", member_id, TIER_CHANGED, {"from": tier.tier, "to": reviewed.tier, "review": month},
                now, m.quiet)))
        tier, also = reviewed, {"reviewed_month": month}
    keep_from = tr.day_key(now - timedelta(days=program.tiers.window_days + 31))
    stale = [day_attr(d, w) for d in m.days if d < keep_from for w in "soi"
             if day_attr(d, w) in st.profile]
    if not ops and not also and not stale and tier == m.tier:
        return 0
    ops.append(MemberStore.move_ledger(member_id, m.ledger_seq, s.balances, tier if tier != m.tier else None, now,
                                       s.invites_on, also, stale))
    store.commit(ops)
    return 1
