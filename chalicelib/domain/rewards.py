"""Member rewards: the versioned reward program, invite refusals, advocate reward states, the
append-only rewards ledger (lots, FIFO-by-expiry redemption, expiry, clawback) and balances.

Units are integers: `points`, or `credit` in minor units of the program's currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from .errors import InvalidInput, Unprocessable
from .money import BPS, CURRENCY_EXPONENTS
from .tiers import TierProgram, validate_tiers

POINTS, CREDIT, COUPON = "points", "credit", "coupon"
UNITS = (POINTS, CREDIT)
EARN, REDEEM, EXPIRE, CLAWBACK = "earn", "redeem", "expire", "clawback"
PENDING, EARNED, CANCELLED, REFUSED = "pending", "earned", "cancelled", "refused"
# Members' coupon codes begin with these; partners' coupon codes may not (domain/coupons.py), so a
# code an order carries is one or the other, never both.
FRIEND_COUPON_PREFIX, REDEEMED_COUPON_PREFIX = "F-", "R-"
MEMBER_COUPON_PREFIXES = (FRIEND_COUPON_PREFIX, REDEEMED_COUPON_PREFIX)


@dataclass(frozen=True)
class Reward:
    kind: str  # points | credit | coupon (coupon: friend reward only)
    amount: int  # points, or minor units of the program currency


@dataclass(frozen=True)
class RewardProgram:
    version: int
    effective_from: datetime
    currency: str = "USD"
    friend_reward: Reward = Reward(COUPON, 1_000)
    advocate_reward: Reward = Reward(POINTS, 1_000)
    min_order_minor: int = 2_000  # the friend's first order must reach this to qualify
    holding_days: int = 30
    expiry_days: int = 365  # earned points and credit expire this long after they are earned
    coupon_days: int = 90  # coupons are valid this long
    cap_per_month: int = 5  # rewarded invites per advocate per calendar month (UTC) of qualifying
    cap_per_year: int = 20
    point_value_minor: int = 1  # one point is worth this much in a coupon
    expiry_notice_days: int = 14
    tiers: TierProgram = field(default_factory=TierProgram)


DEFAULT_PROGRAM = RewardProgram(version=0, effective_from=datetime(2000, 1, 1, tzinfo=UTC))


def validate_program(p: RewardProgram) -> RewardProgram:
    if p.currency not in CURRENCY_EXPONENTS:
        raise InvalidInput(f"unknown currency {p.currency!r}", code="invalid_program")
    if p.friend_reward.kind not in (*UNITS, COUPON) or p.advocate_reward.kind not in UNITS:
        raise InvalidInput(
            "friend rewards are points, credit or a coupon; advocate rewards points or credit", code="invalid_program"
        )
    if not 0 <= p.friend_reward.amount <= 10**9 or not 0 <= p.advocate_reward.amount <= 10**9:
        raise InvalidInput("reward amounts are 0 to 10^9", code="invalid_program")
    if not 0 <= p.holding_days <= 365 or not 1 <= p.expiry_days <= 3650 or not 1 <= p.coupon_days <= 3650:
        raise InvalidInput("holding_days 0-365, expiry_days and coupon_days 1-3650", code="invalid_program")
    if not 0 <= p.cap_per_month <= p.cap_per_year <= 10_000:
        raise InvalidInput("0 <= cap_per_month <= cap_per_year", code="invalid_program")
    if not 1 <= p.point_value_minor <= 10_000 or p.min_order_minor < 0:
        raise InvalidInput("point_value_minor 1-10000, min_order_minor >= 0", code="invalid_program")
    validate_tiers(p.tiers)
    return p


def program_in_force(programs: Sequence[RewardProgram], at: datetime) -> RewardProgram:
    """The latest published version in force at `at`; the built-in defaults (version 0) before any."""
    candidates = [p for p in programs if p.effective_from <= at]
    return max(candidates, key=lambda p: (p.effective_from, p.version)) if candidates else DEFAULT_PROGRAM


# ---- refusals: a stable code for the admin, plain words for the member -----------------------


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


SELF_INVITE_MEMBER = Refusal("self_invite_member", "You can't use your own invite code.")
SELF_INVITE_EMAIL = Refusal(
    "self_invite_email", "This invite can't be rewarded: the new member's email is the inviter's own."
)
SELF_INVITE_PHONE = Refusal(
    "self_invite_phone", "This invite can't be rewarded: the new member's phone number is the inviter's own."
)
SELF_INVITE_PAYMENT = Refusal(
    "self_invite_payment", "This invite can't be rewarded: the new member pays with the inviter's card."
)
NOT_NEW_CUSTOMER = Refusal(
    "not_new_customer",
    "Invite rewards are for new customers, and this email, phone or card already belongs to another member.",
)
ORDER_REFUNDED = Refusal(
    "order_refunded", "Your friend's first order was refunded before the reward was confirmed, so it was cancelled."
)


def cap_month_refusal(cap: int) -> Refusal:
    return Refusal("cap_month", f"You've reached this month's limit of {cap} rewarded invites.")


def cap_year_refusal(cap: int) -> Refusal:
    return Refusal("cap_year", f"You've reached this year's limit of {cap} rewarded invites.")


@dataclass(frozen=True)
class Identity:
    """What tells people apart, all keyed hashes: the shop's customer id, email, phone, card."""

    member_id: str
    customer_hash: str
    email_hash: str | None = None
    phone_hash: str | None = None
    payment_hash: str | None = None


def invite_refusal(friend: Identity, advocate: Identity, claimed_by_others: bool) -> Refusal | None:
    """Why an invite must not be rewarded at all, or None. Checked at sign-up."""
    if friend.member_id == advocate.member_id or friend.customer_hash == advocate.customer_hash:
        return SELF_INVITE_MEMBER
    for mine, theirs, refusal in (
        (friend.email_hash, advocate.email_hash, SELF_INVITE_EMAIL),
        (friend.phone_hash, advocate.phone_hash, SELF_INVITE_PHONE),
        (friend.payment_hash, advocate.payment_hash, SELF_INVITE_PAYMENT),
    ):
        if mine and mine == theirs:
            return refusal
    if claimed_by_others:
        return NOT_NEW_CUSTOMER
    return None


# ---- advocate rewards: pending until the holding period has passed --------------------------


@dataclass(frozen=True)
class AdvocateReward:
    """Created by the friend's first qualifying order. Caps, expiry and the unit are copied from
    the program version in force then, so a later version never changes an old promise."""

    reward_id: str
    advocate_id: str
    friend_id: str
    order_id: str
    unit: str
    base_amount: int
    qualified_at: datetime
    matures_at: datetime
    program_version: int
    cap_per_month: int
    cap_per_year: int
    expiry_days: int
    refunded_at: datetime | None = None  # set when a refund took the order below the minimum
    refund_id: str | None = None


def advocate_reward_id(friend_id: str) -> str:
    return f"adv#{friend_id}"


def cancelled(r: AdvocateReward) -> bool:
    return r.refunded_at is not None and r.refunded_at < r.matures_at


def advocate_states(
    rewards: Iterable[AdvocateReward],
    now: datetime,
    earned: Iterable[str] = (),
    refused: dict[str, Refusal] | None = None,
) -> dict[str, tuple[str, Refusal | None]]:
    """Each reward's state at `now`. Caps count rewards in order of qualifying, per UTC calendar
    month and year; a reward cancelled by a refund does not use a slot. A decision already written
    down is final: `earned` (an earn entry exists) and `refused` (a refusal record exists)."""
    earned, refused = set(earned), refused or {}
    out: dict[str, tuple[str, Refusal | None]] = {}
    per_month: dict[str, int] = defaultdict(int)
    per_year: dict[str, int] = defaultdict(int)
    for r in sorted(rewards, key=lambda r: (r.qualified_at, r.reward_id)):
        month, year = r.qualified_at.strftime("%Y-%m"), r.qualified_at.strftime("%Y")
        if r.reward_id not in earned:
            if cancelled(r):
                out[r.reward_id] = (CANCELLED, ORDER_REFUNDED)
                continue
            refusal = refused.get(r.reward_id) or _cap_refusal(r, per_month[month], per_year[year])
            if refusal is not None:
                out[r.reward_id] = (REFUSED, refusal)
                continue
        per_month[month] += 1
        per_year[year] += 1
        out[r.reward_id] = (EARNED if r.reward_id in earned or now >= r.matures_at else PENDING, None)
    return out


def _cap_refusal(r: AdvocateReward, used_month: int, used_year: int) -> Refusal | None:
    if used_month >= r.cap_per_month:
        return cap_month_refusal(r.cap_per_month)
    if used_year >= r.cap_per_year:
        return cap_year_refusal(r.cap_per_year)
    return None


# ---- the rewards ledger -----------------------------------------------------------------------


@dataclass(frozen=True)
class RewardEntry:
    """Immutable. `lot` names the earn entry an expiry or clawback takes from; a redemption records
    which lots it used (`allocations`)."""

    entry_id: str
    member_id: str
    kind: str
    unit: str
    amount: int  # signed
    occurred_at: datetime
    source: str  # the reward or redemption it comes from
    expires_at: datetime | None = None
    lot: str | None = None
    allocations: tuple[tuple[str, int], ...] = ()


def earn_entry(member_id: str, source: str, unit: str, amount: int, at: datetime, expiry_days: int) -> RewardEntry:
    return RewardEntry(
        f"earn#{source}", member_id, EARN, unit, amount, at, source, expires_at=at + timedelta(days=expiry_days)
    )


@dataclass
class Lots:
    remaining: dict[str, int]
    expires_at: dict[str, datetime]
    debt: int  # clawed back beyond what was left in its lot


_T = TypeVar("_T")


def _required(value: _T | None, e: RewardEntry) -> _T:
    """A field an entry of its kind always has: an earn's expiry, an expiry's or a clawback's lot."""
    if value is None:
        raise ValueError(f"reward entry {e.entry_id} ({e.kind}) lacks a field its kind always has")
    return value


def _ordered(entries: Iterable[RewardEntry]) -> list[RewardEntry]:
    rank = {EARN: 0, REDEEM: 1, CLAWBACK: 2, EXPIRE: 3}
    return sorted(entries, key=lambda e: (e.occurred_at, rank[e.kind], e.entry_id))


def lots(entries: Iterable[RewardEntry], unit: str) -> Lots:
    out = Lots({}, {}, 0)
    for e in _ordered(x for x in entries if x.unit == unit):
        if e.kind == EARN:
            out.remaining[e.entry_id] = e.amount
            out.expires_at[e.entry_id] = _required(e.expires_at, e)
        elif e.kind == REDEEM:
            for lot, n in e.allocations:
                out.remaining[lot] -= n
        elif e.kind == EXPIRE:
            out.remaining[_required(e.lot, e)] += e.amount
        elif e.kind == CLAWBACK:
            lot = _required(e.lot, e)
            take = min(-e.amount, max(0, out.remaining.get(lot, 0)))
            out.remaining[lot] = out.remaining.get(lot, 0) - take
            out.debt += -e.amount - take
    return out


def balance(entries: Iterable[RewardEntry], unit: str) -> int:
    """The balance is the sum of the ledger, by definition."""
    return sum(e.amount for e in entries if e.unit == unit)


def available(entries: Iterable[RewardEntry], unit: str, now: datetime) -> int:
    """What can be redeemed now: unexpired lots, less any debt from clawbacks."""
    ls = lots(entries, unit)
    live = sum(n for lot, n in ls.remaining.items() if n > 0 and ls.expires_at[lot] > now)
    return max(0, live - ls.debt)


def allocate(entries: Sequence[RewardEntry], unit: str, amount: int, now: datetime) -> tuple[tuple[str, int], ...]:
    """Take `amount` from the unexpired lots that expire first (FIFO by expiry, then by id)."""
    can = available(entries, unit, now)
    if amount > can:
        raise Unprocessable(f"only {can} {unit} can be redeemed now", code="insufficient_balance")
    ls = lots(entries, unit)
    out, left = [], amount
    for lot in sorted(
        (lot for lot, n in ls.remaining.items() if n > 0 and ls.expires_at[lot] > now),
        key=lambda lot: (ls.expires_at[lot], lot),
    ):
        if left == 0:
            break
        take = min(left, ls.remaining[lot])
        out.append((lot, take))
        left -= take
    return tuple(out)


def redeem_entry(
    member_id: str, redemption_id: str, unit: str, amount: int, now: datetime, entries: Sequence[RewardEntry]
) -> RewardEntry:
    return RewardEntry(
        f"redeem#{redemption_id}",
        member_id,
        REDEEM,
        unit,
        -amount,
        now,
        redemption_id,
        allocations=allocate(entries, unit, amount, now),
    )


def due_entries(
    member_id: str,
    rewards: Sequence[AdvocateReward],
    entries: Sequence[RewardEntry],
    multiplier_bps: int,
    now: datetime,
    refused: dict[str, Refusal] | None = None,
) -> tuple[list[RewardEntry], dict[str, tuple[str, Refusal | None]]]:
    """The entries that time and refunds call for and that are not written yet: an earn entry for
    each advocate reward whose holding has passed, a clawback for an earned reward whose order was
    refunded after it was earned, an expiry for the rest of each lot past its date. Returns them
    with every reward's state. Writing them changes no balance a member has already seen."""
    have = {e.entry_id: e for e in entries}
    states = advocate_states(rewards, now, {e.source for e in entries if e.kind == EARN}, refused)
    new: list[RewardEntry] = []
    for r in sorted(rewards, key=lambda r: (r.matures_at, r.reward_id)):
        state, _ = states[r.reward_id]
        earn_id = f"earn#{r.reward_id}"
        if state == EARNED and earn_id not in have:
            amount = r.base_amount * multiplier_bps // BPS
            new.append(earn_entry(member_id, r.reward_id, r.unit, amount, r.matures_at, r.expiry_days))
        claw_id = f"claw#{r.reward_id}"
        # Earned, then refunded: whatever the refund's own date says, an earn entry is never undone
        # except by a clawback.
        if state == EARNED and r.refunded_at is not None and claw_id not in have:
            earned = have.get(earn_id) or next(e for e in new if e.entry_id == earn_id)
            # What expired unused was never of use to the member: only the rest is taken back.
            expired = -have[f"expire#{earn_id}"].amount if f"expire#{earn_id}" in have else 0
            if earned.amount - expired > 0:
                new.append(
                    RewardEntry(
                        claw_id,
                        member_id,
                        CLAWBACK,
                        r.unit,
                        -(earned.amount - expired),
                        max(r.refunded_at, r.matures_at),
                        r.reward_id,
                        lot=earn_id,
                    )
                )
    all_entries = [*entries, *new]
    for unit in UNITS:
        ls = lots(all_entries, unit)
        for lot, left in sorted(ls.remaining.items()):
            expire_id = f"expire#{lot}"
            if left > 0 and ls.expires_at[lot] <= now and expire_id not in have:
                new.append(RewardEntry(expire_id, member_id, EXPIRE, unit, -left, ls.expires_at[lot], lot, lot=lot))
    return new, states


def with_entries(entries: Sequence[RewardEntry], new: Sequence[RewardEntry]) -> list[RewardEntry]:
    return _ordered([*entries, *new])


def coupon_value(unit: str, amount: int, program: RewardProgram) -> int:
    """Minor units a redemption is worth: points at the program's point value; credit one to one."""
    return amount * program.point_value_minor if unit == POINTS else amount


def expiring_soon(
    entries: Sequence[RewardEntry], unit: str, now: datetime, days: int
) -> list[tuple[str, int, datetime]]:
    """Lots with something left that expire within `days`: (lot, left, expires_at)."""
    ls = lots(entries, unit)
    return [
        (lot, n, ls.expires_at[lot])
        for lot, n in sorted(ls.remaining.items())
        if n > 0 and now < ls.expires_at[lot] <= now + timedelta(days=days)
    ]
