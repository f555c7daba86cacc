"""Member use cases: reward programs, registration with an invite, reward states and balances,
tiers, and redemption. The order hooks are in member_orders.py, the daily job in member_settle.py."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from ..domain import compliance
from ..domain import rewards as rw
from ..domain import tiers as tr
from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict, InvalidInput, NotFound, Unprocessable
from ..domain.members import INVITE_ALPHABET, Member, member_id_for
from ..domain.notifications import REWARD_EARNED, QuietHours, notify
from ..store.items import iso
from ..store.members import Coupon, MemberProfile, OutboxItem, Redemption, RefusalRecord
from ..store.readable import Versions
from ..store.uow import TransactOp, UnitOfWork
from .member_settle import ATTEMPTS, load, settle

CLAIM_KINDS = ("email", "phone", "payment")


def _code(prefix: str = "", n: int = 8) -> str:
    return prefix + "".join(secrets.choice(INVITE_ALPHABET) for _ in range(n))


def _replay(recorded: str, fingerprint: str, what: str) -> None:
    if recorded != fingerprint:
        raise Conflict(f"this {what} was already made with different details", code="idempotency_conflict")


# ---- reward programs ------------------------------------------------------------------------------


def publish_program(
    uow: UnitOfWork, fields: dict[str, Any], created_by: str, now: datetime, profile: str = compliance.DEFAULT
) -> rw.RewardProgram:
    """Add the next reward program version; versions are never edited. One the program's compliance
    `profile` does not allow is refused before anything is written."""
    for _ in range(ATTEMPTS):
        # Counted as stored, readable or not: a version nothing can read does not block the next one.
        existing = uow.members.program_versions().stored
        program = rw.validate_program(rw.RewardProgram(version=existing + 1, **fields))
        compliance.enforce(compliance.program_violations(profile, program))
        uow.claim(uow.members.new_program(program, created_by, now))
        uow.add(uow.members.program_listed(program, existing))
        try:
            uow.commit()
            return program
        except (AlreadyExists, ConcurrentUpdate):
            continue  # another version was published meanwhile: number this one after it
    raise Conflict("another reward program was being published; try again", code="busy")


def program_versions(uow: UnitOfWork) -> Versions[rw.RewardProgram]:
    """The versions that can be read, and those that cannot (for the admin to see and replace)."""
    return uow.members.program_versions()


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


def register(uow: UnitOfWork, cmd: RegisterCommand, now: datetime) -> tuple[dict[str, Any], bool]:
    """Register a member for the shop: an invite code of its own and, when it came with a friend's
    code and passes the self-invite and new-customer rules, the friend reward. Returns (view, created)."""
    mid = member_id_for(cmd.customer_hash)
    identity = rw.Identity(mid, cmd.customer_hash, cmd.email_hash, cmd.phone_hash, cmd.payment_hash)
    claims = [(k, h) for k, h in zip(CLAIM_KINDS, (cmd.email_hash, cmd.phone_hash, cmd.payment_hash), strict=True) if h]
    for _ in range(ATTEMPTS):
        ctx = uow.members.signup_context(mid, claims, cmd.invite_code)
        if ctx.profile is not None:
            _replay(ctx.profile.fingerprint, cmd.fingerprint, "registration")
            return member_view(ctx.profile), False
        program = rw.program_in_force(ctx.programs, now)
        advocate: Member | None = None
        if cmd.invite_code:
            inviter = uow.members.get(ctx.inviter_id) if ctx.inviter_id else None
            if inviter is None:
                raise Unprocessable(f"no member has the invite code {cmd.invite_code!r}", code="unknown_invite_code")
            advocate = inviter.member
        refusal = rw.invite_refusal(identity, advocate.identity, bool(ctx.taken)) if advocate else None
        member = Member(
            identity,
            _code(),
            cmd.quiet,
            tr.TierState(),
            now,
            advocate_id=advocate.member_id if advocate and refusal is None else None,
        )
        writes: list[TransactOp] = [uow.members.new_invite_code(member.invite_code, mid, now)]
        writes += [uow.members.new_identity_claim(k, h, mid) for k, h in claims if k not in ctx.taken]
        signup: dict[str, Any] = {"invited_by": None, "friend_reward": None}
        balances = {u: 0 for u in rw.UNITS}
        if advocate is not None:
            signup["invited_by"] = advocate.member_id
            if refusal is not None:
                signup["friend_reward"] = {"status": "refused", "code": refusal.code, "message": refusal.message}
                writes.append(
                    uow.members.new_refusal(
                        RefusalRecord(f"invite#{mid}", advocate.member_id, mid, refusal.code, refusal.message, now)
                    )
                )
            else:
                granted = _friend_reward(uow, member, program, now)
                signup["friend_reward"], balances = granted.view, granted.balances
                member = replace(member, ledger_seq=granted.ledger_seq)
                writes += granted.writes
        # The inviter's card hash is kept for the check at the friend's first order.
        profile = MemberProfile(
            member, cmd.fingerprint, signup, advocate.identity.payment_hash if advocate and member.advocate_id else None
        )
        uow.claim(uow.members.new(profile, balances))
        uow.add(*writes)
        try:
            uow.commit()
        except AlreadyExists:
            continue  # a concurrent registration of the same customer won: replay it
        except ConcurrentUpdate:
            continue  # an invite code or an identity claim was taken meanwhile: read again, draw again
        return member_view(profile), True
    raise Conflict("the member could not be registered because of concurrent changes; retry", code="busy")


@dataclass(frozen=True)
class _FriendReward:
    view: dict[str, Any]
    writes: list[TransactOp]
    balances: dict[str, int]
    ledger_seq: int


def _friend_reward(uow: UnitOfWork, member: Member, program: rw.RewardProgram, now: datetime) -> _FriendReward:
    reward = program.friend_reward
    balances = {u: 0 for u in rw.UNITS}
    if reward.amount == 0:
        return _FriendReward({"status": "none", "message": "This program has no friend reward."}, [], balances, 0)
    if reward.kind == rw.COUPON:
        coupon = Coupon(
            _code(rw.FRIEND_COUPON_PREFIX, 10),
            member.member_id,
            reward.amount,
            program.currency,
            program.min_order_minor,
            f"friend#{member.member_id}",
            now,
            now + timedelta(days=program.coupon_days),
        )
        return _FriendReward(
            {
                "status": "granted",
                "kind": rw.COUPON,
                "coupon_code": coupon.code,
                "value_minor": reward.amount,
                "currency": program.currency,
                "min_order_minor": program.min_order_minor,
                "expires_at": iso(coupon.expires_at),
            },
            [uow.members.new_coupon(coupon)],
            balances,
            0,
        )
    entry = rw.earn_entry(
        member.member_id, f"friend#{member.member_id}", reward.kind, reward.amount, now, program.expiry_days
    )
    balances[reward.kind] = reward.amount
    note = notify(
        f"earned#{entry.entry_id}",
        member.member_id,
        REWARD_EARNED,
        {"unit": entry.unit, "amount": entry.amount, "why": "welcome reward"},
        now,
        member.quiet,
    )
    assert entry.expires_at is not None
    return _FriendReward(
        {"status": "granted", "kind": reward.kind, "amount": reward.amount, "expires_at": iso(entry.expires_at)},
        [uow.members.new_entry(entry), uow.members.new_notification(note)],
        balances,
        1,
    )


def member_view(p: MemberProfile) -> dict[str, Any]:
    m = p.member
    return {
        "member_id": m.member_id,
        "invite_code": m.invite_code,
        "invite_url": f"/i/{m.invite_code}",
        "tier": m.tier.tier,
        "invited_by": m.advocate_id,
        "time_zone": m.quiet.tz,
        "quiet_hours": {"start": m.quiet.start.strftime("%H:%M"), "end": m.quiet.end.strftime("%H:%M")},
        "created_at": iso(m.created_at),
        "signup": dict(p.signup),
    }


# ---- reading a member ------------------------------------------------------------------------


def member(uow: UnitOfWork, member_id: str) -> dict[str, Any]:
    profile = uow.members.get(member_id)
    if profile is None:
        raise NotFound(f"no member {member_id}", code="unknown_member")
    return member_view(profile)


def invite_exists(uow: UnitOfWork, code: str) -> bool:
    return uow.members.resolve_invite(code) is not None


def rewards_view(uow: UnitOfWork, member_id: str, now: datetime) -> dict[str, Any]:
    """Balances, rewards with their state (and why, in plain words, when refused), the ledger as it
    stands now, and the member's coupons. What time has decided shows at once, written or not."""
    st = load(uow, member_id)
    program = rw.program_in_force(uow.members.programs(), now)
    s = settle(st, program, now)
    by_id = {r.reward_id: r for r in st.rewards}
    return {
        "member_id": member_id,
        "balances": s.balances,
        "available": {u: rw.available(s.entries, u, now) for u in rw.UNITS},
        "rewards": [
            {
                "reward_id": rid,
                "friend_id": by_id[rid].friend_id,
                "friend": masked(by_id[rid].friend_id),
                "order_id": by_id[rid].order_id,
                "unit": by_id[rid].unit,
                "base_amount": by_id[rid].base_amount,
                "state": state,
                "matures_at": iso(by_id[rid].matures_at),
                "reason": {"code": why.code, "message": why.message} if why else None,
            }
            for rid, (state, why) in sorted(s.states.items(), key=lambda kv: by_id[kv[0]].qualified_at)
        ],
        "refusals": [
            {"reward_id": rid, "code": r.code, "message": r.message, "friend_id": r.friend_id, "at": iso(r.at)}
            for rid, r in sorted(st.refusals.items())
        ],
        "ledger": [
            {
                "entry_id": e.entry_id,
                "kind": e.kind,
                "unit": e.unit,
                "amount": e.amount,
                "occurred_at": iso(e.occurred_at),
                "expires_at": iso(e.expires_at) if e.expires_at else None,
                "source": e.source,
                "lot": e.lot,
                "allocations": [list(a) for a in e.allocations],
            }
            for e in s.entries
        ],
        "coupons": [
            {
                "code": c.code,
                "value_minor": c.value_minor,
                "currency": c.currency,
                "min_order_minor": c.min_order_minor,
                "expires_at": iso(c.expires_at),
                "source": c.source,
                "used_by_order": c.used_by_order,
            }
            for c in uow.members.coupons_of(member_id)
        ],
        "signup": dict(st.profile.signup),
        # what one point buys, for the page to say so
        "point_value": {"minor": program.point_value_minor, "currency": program.currency},
    }


def masked(member_id: str) -> str:
    """A friend as the advocate's page shows it: the first character of the member's key and a star.
    Upline keeps no names (only keyed hashes), so the key stands in for one; the rest stays unshown."""
    tail = member_id.removeprefix("M-")
    return f"{tail[:1]}*"


def tier_view(uow: UnitOfWork, member_id: str, now: datetime) -> dict[str, Any]:
    """The tier as of now: invites whose reward was earned count at once, written down or not."""
    st = load(uow, member_id)
    program = rw.program_in_force(uow.members.programs(), now)
    s = settle(st, program, now)
    days = tr.merge_days([*st.member.days.items(), *((d, tr.Activity(0, 0, n)) for d, n in s.invites_on.items())])
    act = tr.activity_in_window(days, now, program.tiers)
    rule = program.tiers.rule(s.tier.tier)
    return {
        "member_id": member_id,
        "tier": rule.tier,
        "discount_bps": rule.discount_bps,
        "advocate_multiplier_bps": rule.advocate_multiplier_bps,
        "grace_since": s.tier.grace_since,
        "window_days": program.tiers.window_days,
        "activity": {
            "spend_minor": act.spend_minor,
            "orders": act.orders,
            "invites": act.invites,
            "counted_orders": act.counted_orders(program.tiers),
            "currency": program.currency,
        },
        "next": tr.next_tier_needs(rule.tier, act, program.tiers),
    }


# ---- admin views ----------------------------------------------------------------------------------


def refusals(uow: UnitOfWork, limit: int) -> list[dict[str, Any]]:
    return [
        {
            "refusal_id": r.refusal_id,
            "advocate_id": r.advocate_id,
            "friend_id": r.friend_id,
            "code": r.code,
            "message": r.message,
            "at": iso(r.at),
        }
        for r in uow.members.refusals(limit)
    ]


def outbox(uow: UnitOfWork, now: datetime, limit: int) -> dict[str, Any]:
    """Notifications due now, and those a member's quiet hours hold, each with the time it is due."""
    waiting = [_note(i) for i in uow.members.outbox_waiting(now, limit)]
    return {
        "due": [_note(i) for i in uow.members.outbox_due(now, limit)],
        "waiting": waiting,
        "next_due_at": waiting[0]["due_at"] if waiting else None,
    }


def _note(i: OutboxItem) -> dict[str, Any]:
    return {
        "event_id": i.event_id,
        "member_id": i.member_id,
        "due_at": iso(i.not_before),
        "not_before": iso(i.not_before),
        "Source": i.source,
        "DetailType": i.detail_type,
        "Detail": i.detail,
    }


# ---- redemption ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedeemCommand:
    redemption_id: str
    unit: str
    amount: int
    fingerprint: str
    for_order: str | None = None


def redeem(uow: UnitOfWork, member_id: str, cmd: RedeemCommand, now: datetime) -> tuple[dict[str, Any], bool]:
    """Points into a coupon code, or credit against an order (a coupon bound to it). A retry with the
    same redemption id returns the same coupon; the balance never goes below zero by a redemption;
    expired lots are never used (FIFO by expiry). One transaction, from the ledger as read."""
    if cmd.unit not in rw.UNITS:
        raise InvalidInput("unit is points or credit", code="invalid_unit")
    for _ in range(ATTEMPTS):
        st = load(uow, member_id)
        done = st.redemptions.get(cmd.redemption_id)
        if done is not None:
            _replay(done.fingerprint, cmd.fingerprint, "redemption")
            return dict(done.result), False
        program = rw.program_in_force(uow.members.programs(), now)
        s = settle(st, program, now)
        entry = rw.redeem_entry(member_id, cmd.redemption_id, cmd.unit, cmd.amount, now, s.entries)
        value = rw.coupon_value(cmd.unit, cmd.amount, program)
        coupon = Coupon(
            _code(rw.REDEEMED_COUPON_PREFIX, 10),
            member_id,
            value,
            program.currency,
            0,
            f"redeem#{cmd.redemption_id}",
            now,
            now + timedelta(days=program.coupon_days),
            for_order=cmd.for_order,
        )
        balances = dict(s.balances)
        balances[cmd.unit] += entry.amount
        result = {
            "member_id": member_id,
            "redemption_id": cmd.redemption_id,
            "unit": cmd.unit,
            "amount": cmd.amount,
            "coupon": {
                "code": coupon.code,
                "value_minor": value,
                "currency": program.currency,
                "expires_at": iso(coupon.expires_at),
                "for_order": cmd.for_order,
            },
            "allocations": [{"lot": lot, "amount": n} for lot, n in entry.allocations],
            "balance_after": balances[cmd.unit],
        }
        uow.claim(uow.members.new_redemption(Redemption(member_id, cmd.redemption_id, cmd.fingerprint, result, now)))
        uow.add(
            *s.writes(uow.members),
            uow.members.new_entry(entry),
            uow.members.new_coupon(coupon),
            uow.members.ledger_moved(
                member_id,
                st.member.ledger_seq,
                balances,
                now,
                s.tier if s.tier != st.member.tier else None,
                s.invites_on,
            ),
        )
        try:
            uow.commit()
            return result, True
        except (AlreadyExists, ConcurrentUpdate):
            continue  # a retry or another writer got there first: read again
    raise Conflict("the redemption could not be recorded because of concurrent changes; retry", code="busy")
