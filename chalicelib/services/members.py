"""Member use cases: register (with an invite), the order and refund hooks, reward states and
balances, redemption, tiers, and the daily job that writes down what time has decided."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from ..domain import rewards as rw
from ..domain import tiers as tr
from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict, InvalidInput, NotFound, Unprocessable
from ..domain.members import INVITE_ALPHABET, Member, member_id_for
from ..domain.notifications import REWARD_EARNED, REWARD_EXPIRING, TIER_CHANGED, QuietHours, notify
from ..domain.orders import OrderCommand, RecordedOrder, RefundCommand
from ..store import keys
from ..store.dynamo import Op
from ..store.members import Coupon, MemberState, MemberStore, day_attr, member_from, programs_from
from ..store.repository import iso

ATTEMPTS = 5
CLAIM_KINDS = ("email", "phone", "payment")


def _code(prefix: str = "", n: int = 8) -> str:
    return prefix + "".join(secrets.choice(INVITE_ALPHABET) for _ in range(n))


def _replay(recorded: str, fingerprint: str, what: str) -> None:
    if recorded != fingerprint:
        raise Conflict(f"this {what} was already made with different details", code="idempotency_conflict")


# ---- reward programs ------------------------------------------------------------------------------

def publish_program(store: MemberStore, fields: dict[str, Any], created_by: str, now: datetime) -> rw.RewardProgram:
    """Add the next reward program version; versions are never edited."""
    for _ in range(ATTEMPTS):
        existing = store.programs()
        program = rw.validate_program(rw.RewardProgram(version=len(existing) + 1, **fields))
        try:
            store.commit(store.put_program(program, len(existing), created_by, now))
            return program
        except (AlreadyExists, ConcurrentUpdate):
            continue
    raise Conflict("another reward program was being published; try again", code="busy")


# ---- registration -------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegisterCommand:
    customer_hash: str
    fingerprint: str
    email_hash: str | None = None
    phone_hash: str | None = None
    payment_hash: str | None = None
    invite_code: str | None = None
    quiet: QuietHours = field(default_factory=QuietHours)


def register(store: MemberStore, cmd: RegisterCommand, now: datetime) -> tuple[dict[str, Any], bool]:
    """Register a member for the shop: an invite code of its own and, when it came with a friend's
    code and passes the self-invite and new-customer rules, the friend reward. Returns (view, created)."""
    mid = member_id_for(cmd.customer_hash)
    identity = rw.Identity(mid, cmd.customer_hash, cmd.email_hash, cmd.phone_hash, cmd.payment_hash)
    claims = [(k, h) for k, h in zip(CLAIM_KINDS, (cmd.email_hash, cmd.phone_hash, cmd.payment_hash)) if h]
    for _ in range(ATTEMPTS):
        wanted = [keys.member(mid), keys.reward_programs(), *(keys.identity_claim(k, h) for k, h in claims)]
        if cmd.invite_code:
            wanted.append(keys.invite_code(cmd.invite_code))
        found = store.get_many(wanted)
        profile = found.get(keys.member(mid))
        if profile is not None:
            _replay(profile["fingerprint"], cmd.fingerprint, "registration")
            return member_view(profile), False
        program = rw.program_in_force(programs_from(found.get(keys.reward_programs())), now)
        advocate: Member | None = None
        if cmd.invite_code:
            invite = found.get(keys.invite_code(cmd.invite_code))
            adv_item = store.get_many([keys.member(invite["member_id"])]).get(keys.member(invite["member_id"])) \
                if invite else None
            if adv_item is None:
                raise Unprocessable(f"no member has the invite code {cmd.invite_code!r}", code="unknown_invite_code")
            advocate = member_from(adv_item)
        taken = {k for k, h in claims if found.get(keys.identity_claim(k, h))}
        refusal = rw.invite_refusal(identity, advocate.identity, bool(taken)) if advocate else None
        member = Member(identity, _code(), cmd.quiet, tr.TierState(), now,
                        advocate_id=advocate.member_id if advocate and refusal is None else None)
        ops = [Op.put_new(keys.member(mid), {})]  # placeholder: the profile goes first (see below)
        ops += [store.put_invite_code(member.invite_code, mid, now)]
        ops += [store.put_claim(k, h, mid) for k, h in claims if k not in taken]
        signup: dict[str, Any] = {"invited_by": None, "friend_reward": None}
        balances = {u: 0 for u in rw.UNITS}
        seq = 0
        if advocate is not None:
            signup["invited_by"] = advocate.member_id
            if refusal is not None:
                signup["friend_reward"] = {"status": "refused", "code": refusal.code, "message": refusal.message}
                ops.append(store.put_refusal(advocate.member_id, f"invite#{mid}", refusal, mid, now))
            else:
                signup["friend_reward"], extra, balances, seq = _friend_reward(store, member, program, now)
                ops += extra
        member = replace(member, ledger_seq=seq)
        ops[0] = store.put_member(member, cmd.fingerprint, signup, balances)
        if member.advocate_id and advocate.identity.payment_hash:
            # for the check at the friend's first order: paying with the inviter's card
            ops[0]["Put"]["Item"]["advocate_payment_hash"] = {"S": advocate.identity.payment_hash}
        try:
            store.commit(ops)
        except AlreadyExists:
            continue  # a concurrent registration of the same customer won: replay it
        except ConcurrentUpdate:
            continue  # an invite code or a claim was taken meanwhile: read again, draw again
        return member_view(store.get_many([keys.member(mid)])[keys.member(mid)]), True
    raise Conflict("the member could not be registered because of concurrent changes; retry", code="busy")


def _friend_reward(store: MemberStore, member: Member, program: rw.RewardProgram, now: datetime):
    reward = program.friend_reward
    balances = {u: 0 for u in rw.UNITS}
    if reward.amount == 0:
        return {"status": "none", "message": "This program has no friend reward."}, [], balances, 0
    if reward.kind == rw.COUPON:
        coupon = Coupon(_code("F-", 10), member.member_id, reward.amount, program.currency, program.min_order_minor,
                        f"friend#{member.member_id}", now, now + timedelta(days=program.coupon_days))
        return ({"status": "granted", "kind": rw.COUPON, "coupon_code": coupon.code, "value_minor": reward.amount,
                 "currency": program.currency, "min_order_minor": program.min_order_minor,
                 "expires_at": iso(coupon.expires_at)}, [store.put_coupon(coupon)], balances, 0)
    entry = rw.earn_entry(member.member_id, f"friend#{member.member_id}", reward.kind, reward.amount, now,
                          program.expiry_days)
    balances[reward.kind] = reward.amount
    note = notify(f"earned#{entry.entry_id}", member.member_id, REWARD_EARNED,
                  {"unit": entry.unit, "amount": entry.amount, "why": "welcome reward"}, now, member.quiet)
    return ({"status": "granted", "kind": reward.kind, "amount": reward.amount, "expires_at": iso(entry.expires_at)},
            [store.put_entry(entry), store.put_notification(note)], balances, 1)


def member_view(profile: dict[str, Any]) -> dict[str, Any]:
    m = member_from(profile)
    return {"member_id": m.member_id, "invite_code": m.invite_code, "invite_url": f"/i/{m.invite_code}",
            "tier": m.tier.tier, "invited_by": m.advocate_id, "time_zone": m.quiet.tz,
            "quiet_hours": {"start": m.quiet.start.strftime("%H:%M"), "end": m.quiet.end.strftime("%H:%M")},
            "created_at": profile["created_at"], "signup": json.loads(profile.get("signup") or "{}")}


# ---- the order and refund hooks (no extra round trip: keys ride the order's first read) ---------

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
    if cmd.coupon_code:
        out.coupon = _coupon_use(found.get(keys.coupon(cmd.coupon_code)), cmd, mid, now)
        if out.coupon["status"] == "applied":
            out.ops.append(MemberStore.use_coupon(cmd.coupon_code, cmd.order_id, now))
    if profile is None:
        return out
    member = member_from(profile)
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


# ---- reading a member, writing down what time decided -------------------------------------------

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


def _state(store: MemberStore, member_id: str) -> MemberState:
    st = store.state(member_id)
    if st is None:
        raise NotFound(f"no member {member_id}", code="unknown_member")
    return st


def rewards_view(store: MemberStore, member_id: str, now: datetime) -> dict[str, Any]:
    """Balances, rewards with their state (and why, in plain words, when refused), the ledger as it
    stands now, and the member's coupons. What time has decided shows at once, written or not."""
    st = _state(store, member_id)
    program = rw.program_in_force(store.programs(), now)
    s = settle(st, program, now)
    by_id = {r.reward_id: r for r in st.rewards}
    refusals = [{"reward_id": rid, "code": i["code"], "message": i["message"], "friend_id": i.get("friend_id"),
                 "at": i["at"]} for rid, i in sorted(st.refusals.items())]
    return {
        "member_id": member_id,
        "balances": s.balances,
        "available": {u: rw.available(s.entries, u, now) for u in rw.UNITS},
        "rewards": [{
            "reward_id": rid, "friend_id": by_id[rid].friend_id, "order_id": by_id[rid].order_id,
            "unit": by_id[rid].unit, "base_amount": by_id[rid].base_amount, "state": state,
            "matures_at": iso(by_id[rid].matures_at),
            "reason": {"code": why.code, "message": why.message} if why else None,
        } for rid, (state, why) in sorted(s.states.items(), key=lambda kv: by_id[kv[0]].qualified_at)],
        "refusals": refusals,
        "ledger": [{"entry_id": e.entry_id, "kind": e.kind, "unit": e.unit, "amount": e.amount,
                    "occurred_at": iso(e.occurred_at), "expires_at": iso(e.expires_at) if e.expires_at else None,
                    "source": e.source, "lot": e.lot, "allocations": [list(a) for a in e.allocations]}
                   for e in s.entries],
        "coupons": [{"code": c.code, "value_minor": c.value_minor, "currency": c.currency,
                     "min_order_minor": c.min_order_minor, "expires_at": iso(c.expires_at), "source": c.source,
                     "used_by_order": c.used_by_order} for c in store.coupons_of(member_id)],
        "signup": json.loads(st.profile.get("signup") or "{}"),
    }


def tier_view(store: MemberStore, member_id: str, now: datetime) -> dict[str, Any]:
    """The tier as of now: invites whose reward was earned count at once, written down or not."""
    st = _state(store, member_id)
    program = rw.program_in_force(store.programs(), now)
    s = settle(st, program, now)
    days = tr.merge_days([*st.member.days.items(), *((d, tr.Activity(0, 0, n)) for d, n in s.invites_on.items())])
    act = tr.activity_in_window(days, now, program.tiers)
    rule = program.tiers.rule(s.tier.tier)
    return {"member_id": member_id, "tier": rule.tier, "discount_bps": rule.discount_bps,
            "advocate_multiplier_bps": rule.advocate_multiplier_bps, "grace_since": s.tier.grace_since,
            "window_days": program.tiers.window_days,
            "activity": {"spend_minor": act.spend_minor, "orders": act.orders, "invites": act.invites,
                         "counted_orders": act.counted_orders(program.tiers), "currency": program.currency},
            "next": tr.next_tier_needs(rule.tier, act, program.tiers)}


# ---- redemption ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RedeemCommand:
    redemption_id: str
    unit: str
    amount: int
    fingerprint: str
    for_order: str | None = None


def redeem(store: MemberStore, member_id: str, cmd: RedeemCommand, now: datetime) -> tuple[dict[str, Any], bool]:
    """Points into a coupon code, or credit against an order (a coupon bound to it). A retry with the
    same redemption id returns the same coupon; the balance never goes below zero by a redemption;
    expired lots are never used (FIFO by expiry). One transaction, from the ledger as read."""
    if cmd.unit not in rw.UNITS:
        raise InvalidInput("unit is points or credit", code="invalid_unit")
    for _ in range(ATTEMPTS):
        st = _state(store, member_id)
        done = st.redemptions.get(cmd.redemption_id)
        if done is not None:
            _replay(done["fingerprint"], cmd.fingerprint, "redemption")
            return json.loads(done["result"]), False
        program = rw.program_in_force(store.programs(), now)
        s = settle(st, program, now)
        entry = rw.redeem_entry(member_id, cmd.redemption_id, cmd.unit, cmd.amount, now, s.entries)
        value = rw.coupon_value(cmd.unit, cmd.amount, program)
        coupon = Coupon(_code("R-", 10), member_id, value, program.currency, 0, f"redeem#{cmd.redemption_id}", now,
                        now + timedelta(days=program.coupon_days), for_order=cmd.for_order)
        balances = dict(s.balances)
        balances[cmd.unit] += entry.amount
        result = {"member_id": member_id, "redemption_id": cmd.redemption_id, "unit": cmd.unit, "amount": cmd.amount,
                  "coupon": {"code": coupon.code, "value_minor": value, "currency": program.currency,
                             "expires_at": iso(coupon.expires_at), "for_order": cmd.for_order},
                  "allocations": [{"lot": lot, "amount": n} for lot, n in entry.allocations],
                  "balance_after": balances[cmd.unit]}
        ops = [MemberStore.put_redemption(member_id, cmd.redemption_id, cmd.fingerprint, result, now),
               *s.ops, MemberStore.put_entry(entry), MemberStore.put_coupon(coupon),
               MemberStore.move_ledger(member_id, st.member.ledger_seq, balances,
                                       s.tier if s.tier != st.member.tier else None, now, s.invites_on)]
        try:
            store.commit(ops)
            return result, True
        except (AlreadyExists, ConcurrentUpdate):
            continue  # a retry or another writer got there first: read again
    raise Conflict("the redemption could not be recorded because of concurrent changes; retry", code="busy")


# ---- the daily job ------------------------------------------------------------------------------

def daily(store: MemberStore, now: datetime) -> dict[str, int]:
    """Write down what time decided for every member: earned and expired rewards, cap refusals,
    expiry reminders, the monthly tier review (downgrades only here, after grace), old activity
    buckets pruned. Safe to run again: every write is conditional and every id deterministic."""
    programs = store.programs()
    counts = {"members": 0, "changed": 0, "busy": 0}
    for member_id in store.member_ids():
        counts["members"] += 1
        for _ in range(ATTEMPTS):
            try:
                counts["changed"] += settle_member(store, member_id, rw.program_in_force(programs, now), now)
                break
            except (AlreadyExists, ConcurrentUpdate):
                continue
        else:
            counts["busy"] += 1
    return counts


def settle_member(store: MemberStore, member_id: str, program: rw.RewardProgram, now: datetime) -> int:
    st = _state(store, member_id)
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
