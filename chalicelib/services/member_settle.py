"""Writing down what time decided for a member: earned, expired and clawed-back rewards, cap
refusals, notifications, tier changes and the monthly review. Used by redemption and the daily job."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..domain import rewards as rw
from ..domain import tiers as tr
from ..domain.errors import AlreadyExists, ConcurrentUpdate, DomainError, NotFound
from ..domain.notifications import REWARD_EARNED, REWARD_EXPIRING, TIER_CHANGED, Notification, notify
from ..observability import logger
from ..store.items import iso
from ..store.members import MemberRepo, MemberState, RefusalRecord
from ..store.uow import TransactOp, UnitOfWork

ATTEMPTS = 5


@dataclass(frozen=True)
class Settled:
    """What time and refunds call for, decided and not yet written."""

    new: list[rw.RewardEntry]
    entries: list[rw.RewardEntry]  # the ledger with `new` in it
    states: dict[str, tuple[str, rw.Refusal | None]]
    refusals: list[RefusalRecord]
    notes: list[Notification]
    balances: dict[str, int]
    tier: tr.TierState
    invites_on: dict[str, int]

    def writes(self, members: MemberRepo) -> list[TransactOp]:
        """The entries, refusals and notifications (without the profile update, which the caller
        adds once)."""
        return [
            *map(members.new_entry, self.new),
            *map(members.new_refusal, self.refusals),
            *map(members.new_notification, self.notes),
        ]


def settle(st: MemberState, program: rw.RewardProgram, now: datetime) -> Settled:
    """The entries, refusals and notifications that time and refunds call for at `now`."""
    m = st.member
    multiplier = program.tiers.rule(m.tier.tier).advocate_multiplier_bps
    written = {
        rid: rw.Refusal(r.code, r.message)
        for rid, r in st.refusals.items()
        if not rid.startswith("invite#") and r.code != rw.ORDER_REFUNDED.code
    }
    new, states = rw.due_entries(m.member_id, st.rewards, st.entries, multiplier, now, refused=written)
    refusals: list[RefusalRecord] = []
    by_id = {r.reward_id: r for r in st.rewards}
    for reward_id, (state, refusal) in sorted(states.items()):
        r = by_id[reward_id]
        # A cap refusal is final once the reward's holding has passed; a cancellation by refund at once.
        final = (state == rw.REFUSED and now >= r.matures_at) or state == rw.CANCELLED
        if final and reward_id not in st.refusals and refusal is not None:
            refusals.append(
                RefusalRecord(
                    reward_id,
                    m.member_id,
                    r.friend_id,
                    refusal.code,
                    refusal.message,
                    min(now, r.matures_at) if state == rw.REFUSED else now,
                )
            )
    notes: list[Notification] = []
    invites_on: dict[str, int] = {}
    for e in new:
        if e.kind == rw.EARN:
            note_id = f"earned#{e.entry_id}"
            if note_id not in st.outbox:
                notes.append(
                    notify(
                        note_id,
                        m.member_id,
                        REWARD_EARNED,
                        {"unit": e.unit, "amount": e.amount, "why": "invite"},
                        now,
                        m.quiet,
                    )
                )
            day = tr.day_key(e.occurred_at)
            invites_on[day] = invites_on.get(day, 0) + 1
    entries = rw.with_entries(st.entries, new)
    days = tr.merge_days([*m.days.items(), *((d, tr.Activity(0, 0, n)) for d, n in invites_on.items())])
    tier = tr.after_activity(m.tier, tr.activity_in_window(days, now, program.tiers), program.tiers)
    if tier.tier != m.tier.tier:
        notes.append(
            notify(
                f"tier#{m.ledger_seq}", m.member_id, TIER_CHANGED, {"from": m.tier.tier, "to": tier.tier}, now, m.quiet
            )
        )
    balances = {u: rw.balance(entries, u) for u in rw.UNITS}
    return Settled(new, entries, states, refusals, notes, balances, tier, invites_on)


def load(uow: UnitOfWork, member_id: str) -> MemberState:
    st = uow.members.state(member_id)
    if st is None:
        raise NotFound(f"no member {member_id}", code="unknown_member")
    return st


def daily(uow: UnitOfWork, now: datetime) -> dict[str, int]:
    """Write down what time decided for every member: earned and expired rewards, cap refusals,
    expiry reminders, the monthly tier review (downgrades only here, after grace), old activity
    buckets pruned. One transaction per member. Safe to run again: every write is conditional and
    every id deterministic."""
    program = rw.program_in_force(uow.members.programs(), now)
    counts = {"members": 0, "changed": 0, "busy": 0, "failed": 0}
    for member_id in uow.members.member_ids():
        counts["members"] += 1
        for _ in range(ATTEMPTS):
            try:
                counts["changed"] += settle_member(uow, member_id, program, now)
                break
            except (AlreadyExists, ConcurrentUpdate):
                continue  # a redemption or an order moved this member meanwhile: read again
            except DomainError:
                # e.g. more due writes than one transaction holds: this member waits, the others go on
                logger.exception("members_daily: member not settled", extra={"member_id": member_id})
                uow.discard()
                counts["failed"] += 1
                break
        else:
            counts["busy"] += 1
    return counts


def settle_member(uow: UnitOfWork, member_id: str, program: rw.RewardProgram, now: datetime) -> int:
    """Write down what time decided for one member, in one transaction. 1 if anything was written."""
    st = load(uow, member_id)
    m = st.member
    s = settle(st, program, now)
    notes = list(s.notes)
    for unit in rw.UNITS:
        for lot, left, expires_at in rw.expiring_soon(s.entries, unit, now, program.expiry_notice_days):
            note_id = f"expiring#{lot}"
            if note_id not in st.outbox:
                notes.append(
                    notify(
                        note_id,
                        member_id,
                        REWARD_EXPIRING,
                        {"unit": unit, "amount": left, "expires_at": iso(expires_at)},
                        now,
                        m.quiet,
                    )
                )
    tier, reviewed = s.tier, None
    month = tr.review_month(now)
    if st.profile.reviewed_month != month and m.created_at.strftime("%Y-%m") < month:
        reviewed_tier = tr.monthly_review(tier, tr.activity_in_window(m.days, now, program.tiers), month, program.tiers)
        if reviewed_tier.tier != tier.tier:
            notes.append(
                notify(
                    f"tier#{month}",
                    member_id,
                    TIER_CHANGED,
                    {"from": tier.tier, "to": reviewed_tier.tier, "review": month},
                    now,
                    m.quiet,
                )
            )
        tier, reviewed = reviewed_tier, month
    keep_from = tr.day_key(now - timedelta(days=program.tiers.window_days + 31))
    # A day an invite is added to now is pruned next time (one update may not both add and remove it).
    stale = [d for d in m.days if d < keep_from and d not in s.invites_on]
    if not s.new and not s.refusals and not notes and reviewed is None and not stale and tier == m.tier:
        return 0
    uow.add(
        *replace(s, notes=notes).writes(uow.members),
        uow.members.ledger_moved(
            member_id, m.ledger_seq, s.balances, now, tier if tier != m.tier else None, s.invites_on, reviewed, stale
        ),
    )
    uow.commit()
    return 1
