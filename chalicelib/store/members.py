"""Members in the one table: profiles, invite codes, identity claims, advocate rewards, the rewards
ledger, redemptions, refusals, the notification outbox, coupons and the reward programs. Items are
shaped here and nowhere else: reads return the small typed views below, writes are store/ops.py
values a unit of work commits."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ..domain.members import Member, member_id_for
from ..domain.notifications import Notification, QuietHours, parse_hhmm
from ..domain.rewards import AdvocateReward, Identity, Reward, RewardEntry, RewardProgram
from ..domain.settlement import shard_of
from ..domain.tiers import Activity, TierProgram, TierRule, TierState
from . import keys, ops, schema
from .items import iso, parse_iso
from .ops import Put, Update, put_new
from .readable import UnreadableRecord, Versions, read_one, read_versions
from .reads import Reads

DAY_PREFIX = "d#"  # activity buckets on the profile: d#YYYYMMDD#s (spend), #o (orders), #i (invites)


def _t(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


def _day_attr(day: str, what: str) -> str:
    return f"{DAY_PREFIX}{day}#{what}"


# ---- typed views --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberProfile:
    """A member's profile item: the member as the rules see it, plus what the profile records for
    replays and checks (the registration's fingerprint and its recorded result, the inviter's card
    hash kept for the friend's first order, the last monthly tier review)."""

    member: Member
    fingerprint: str
    signup: Mapping[str, Any]  # the registration's recorded result (the friend reward), replayed as is
    advocate_payment_hash: str | None = None
    reviewed_month: str | None = None  # "YYYY-MM"


@dataclass(frozen=True)
class Redemption:
    """The idempotency record of a redemption: a retry with the same id replays `result`."""

    member_id: str
    redemption_id: str
    fingerprint: str
    result: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class RefusalRecord:
    """An invite or an advocate reward refused (or cancelled), with its reason, under the advocate."""

    refusal_id: str  # "invite#{friend}" for an invite refused at sign-up, else the reward id
    advocate_id: str
    friend_id: str | None
    code: str
    message: str
    at: datetime


@dataclass(frozen=True)
class OutboxItem:
    """A notification waiting in the outbox, in EventBridge's terms."""

    event_id: str
    member_id: str
    created_at: datetime
    not_before: datetime
    source: str
    detail_type: str
    detail: str  # JSON, as EventBridge takes it


@dataclass(frozen=True)
class Coupon:
    code: str
    member_id: str
    value_minor: int
    currency: str
    min_order_minor: int
    source: str
    created_at: datetime
    expires_at: datetime
    for_order: str | None = None
    used_by_order: str | None = None


@dataclass(frozen=True)
class MemberState:
    """A member's whole partition, from one Query."""

    profile: MemberProfile
    rewards: tuple[AdvocateReward, ...] = ()  # as the advocate
    entries: tuple[RewardEntry, ...] = ()
    redemptions: Mapping[str, Redemption] = field(default_factory=dict)
    refusals: Mapping[str, RefusalRecord] = field(default_factory=dict)
    outbox: frozenset[str] = frozenset()  # event ids

    @property
    def member(self) -> Member:
        return self.profile.member


@dataclass(frozen=True)
class SignupContext:
    """What a registration reads in one batch: the profile (a replay), the reward programs, which of
    the newcomer's identity kinds another member already claimed, and who owns the invite code."""

    profile: MemberProfile | None
    programs: tuple[RewardProgram, ...]
    taken: frozenset[str]  # claim kinds (email, phone, payment) already claimed
    inviter_id: str | None  # the member whose invite code it is; None when no such code


@dataclass(frozen=True)
class BuyerContext:
    """What an order needs to know about its buyer as a member, read in the order's first batch.
    A profile or coupon that is stored but cannot be read is reported (store/readable.py) and
    stands as none: the member side never stops an order."""

    member: MemberProfile | None
    programs: tuple[RewardProgram, ...]
    coupon: Coupon | None
    coupon_unreadable: bool = False


# ---- item <-> value -----------------------------------------------------------------------------


def _program_doc(p: RewardProgram) -> str:
    d = asdict(p)
    d["effective_from"] = iso(p.effective_from)
    return json.dumps(d, sort_keys=True)


def _program_from_doc(doc: str) -> RewardProgram:
    d = json.loads(doc)
    tiers = d.pop("tiers")
    tiers["rules"] = tuple(TierRule(**r) for r in tiers["rules"])
    return RewardProgram(
        **{
            **d,
            "effective_from": parse_iso(d["effective_from"]),
            "friend_reward": Reward(**d["friend_reward"]),
            "advocate_reward": Reward(**d["advocate_reward"]),
            "tiers": TierProgram(**tiers),
        }
    )


def _program_versions_from(item: dict[str, Any] | None) -> Versions[RewardProgram]:
    """Every stored version that can be read; one that cannot is skipped and reported."""
    return read_versions("/".join(keys.reward_programs()), (item or {}).get("versions", []), _program_from_doc)


def _programs_from(item: dict[str, Any] | None) -> tuple[RewardProgram, ...]:
    return tuple(_program_versions_from(item).items)


def _member_from(item: dict[str, Any]) -> Member:
    days: dict[str, Activity] = {}
    for name, value in item.items():
        if name.startswith(DAY_PREFIX):
            _, day, what = name.split("#")
            a = days.get(day, Activity())
            days[day] = Activity(
                a.spend_minor + (value if what == "s" else 0),
                a.orders + (value if what == "o" else 0),
                a.invites + (value if what == "i" else 0),
            )
    return Member(
        identity=Identity(
            item["member_id"],
            item["customer_hash"],
            item.get("email_hash"),
            item.get("phone_hash"),
            item.get("payment_hash"),
        ),
        invite_code=item["invite_code"],
        quiet=QuietHours(
            item.get("tz", "UTC"),
            parse_hhmm(item.get("quiet_start", "21:00")),
            parse_hhmm(item.get("quiet_end", "09:00")),
        ),
        tier=TierState(item.get("tier", "normal"), item.get("grace_since") or None),
        created_at=parse_iso(item["created_at"]),
        advocate_id=item.get("advocate_id"),
        first_order_id=item.get("first_order_id"),
        ledger_seq=item.get("ledger_seq", 0),
        days=days,
    )


def _profile_from(item: dict[str, Any]) -> MemberProfile:
    return MemberProfile(
        _member_from(item),
        item["fingerprint"],
        json.loads(item.get("signup") or "{}"),
        item.get("advocate_payment_hash"),
        item.get("reviewed_month") or None,
    )


def _reward_item(r: AdvocateReward) -> dict[str, Any]:
    return {
        "reward_id": r.reward_id,
        "advocate_id": r.advocate_id,
        "friend_id": r.friend_id,
        "order_id": r.order_id,
        "unit": r.unit,
        "base_amount": r.base_amount,
        "qualified_at": iso(r.qualified_at),
        "matures_at": iso(r.matures_at),
        "program_version": r.program_version,
        "cap_per_month": r.cap_per_month,
        "cap_per_year": r.cap_per_year,
        "expiry_days": r.expiry_days,
    }


def _reward_from(item: dict[str, Any]) -> AdvocateReward:
    return AdvocateReward(
        item["reward_id"],
        item["advocate_id"],
        item["friend_id"],
        item["order_id"],
        item["unit"],
        item["base_amount"],
        parse_iso(item["qualified_at"]),
        parse_iso(item["matures_at"]),
        item["program_version"],
        item["cap_per_month"],
        item["cap_per_year"],
        item["expiry_days"],
        _t(item.get("refunded_at")),
        item.get("refund_id"),
    )


def _entry_item(e: RewardEntry) -> dict[str, Any]:
    return {
        "entry_id": e.entry_id,
        "member_id": e.member_id,
        "kind": e.kind,
        "unit": e.unit,
        "amount": e.amount,
        "occurred_at": iso(e.occurred_at),
        "source": e.source,
        "expires_at": iso(e.expires_at) if e.expires_at else None,
        "lot": e.lot,
        "allocations": [{"lot": lot, "amount": n} for lot, n in e.allocations] or None,
    }


def _entry_from(item: dict[str, Any]) -> RewardEntry:
    return RewardEntry(
        item["entry_id"],
        item["member_id"],
        item["kind"],
        item["unit"],
        item["amount"],
        parse_iso(item["occurred_at"]),
        item["source"],
        _t(item.get("expires_at")),
        item.get("lot"),
        tuple((a["lot"], a["amount"]) for a in item.get("allocations") or ()),
    )


def _coupon_from(item: dict[str, Any]) -> Coupon:
    return Coupon(
        item["code"],
        item["member_id"],
        item["value_minor"],
        item["currency"],
        item["min_order_minor"],
        item["source"],
        parse_iso(item["created_at"]),
        parse_iso(item["expires_at"]),
        item.get("for_order"),
        item.get("used_by_order"),
    )


def _redemption_from(member_id: str, item: dict[str, Any]) -> Redemption:
    return Redemption(
        member_id, item["redemption_id"], item["fingerprint"], json.loads(item["result"]), parse_iso(item["created_at"])
    )


def _refusal_from(item: dict[str, Any]) -> RefusalRecord:
    return RefusalRecord(
        item["refusal_id"],
        item["advocate_id"],
        item.get("friend_id"),
        item["code"],
        item["message"],
        parse_iso(item["at"]),
    )


def _outbox_from(item: dict[str, Any]) -> OutboxItem:
    return OutboxItem(
        item["event_id"],
        item["member_id"],
        parse_iso(item["created_at"]),
        parse_iso(item["not_before"]),
        item["source"],
        item["detail_type"],
        item["detail"],
    )


# ---- the repository -----------------------------------------------------------------------------


class MemberRepo:
    def __init__(self, table: Any):
        self.table = table

    # ---- reads ---------------------------------------------------------------------------------
    def programs(self) -> tuple[RewardProgram, ...]:
        """Every published reward program version that can be read, oldest first."""
        return _programs_from(self.table.get(keys.reward_programs()))

    def program_versions(self) -> Versions[RewardProgram]:
        """The versions that can be read, how many are stored (the next is number stored + 1) and
        those that cannot be read."""
        return _program_versions_from(self.table.get(keys.reward_programs()))

    def get(self, member_id: str) -> MemberProfile | None:
        item = self.table.get(keys.member(member_id))
        return _profile_from(item) if item else None

    def exists(self, member_id: str) -> bool:
        """Whether the member is registered (its key only: a small reply)."""
        return self.table.get(keys.member(member_id), attrs=(schema.PK,)) is not None

    def signup_context(
        self, member_id: str, claims: Iterable[tuple[str, str]], invite_code: str | None
    ) -> SignupContext:
        """One batch read: the profile, the programs, the identity claims (kind, hash) and the
        invite code."""
        claims = list(claims)
        wanted = [keys.member(member_id), keys.reward_programs(), *(keys.identity_claim(k, h) for k, h in claims)]
        if invite_code:
            wanted.append(keys.invite_code(invite_code))
        found = self.table.batch_get(wanted)
        profile = found.get(keys.member(member_id))
        invite = found.get(keys.invite_code(invite_code)) if invite_code else None
        return SignupContext(
            profile=_profile_from(profile) if profile else None,
            programs=_programs_from(found.get(keys.reward_programs())),
            taken=frozenset(k for k, h in claims if keys.identity_claim(k, h) in found),
            inviter_id=invite["member_id"] if invite else None,
        )

    def for_order(self, customer_hash: str, coupon_code: str | None) -> Reads[BuyerContext]:
        """What the order path reads for its buyer, in its own first batch read: the buyer's member
        profile (the id follows from the customer hash), the reward programs, the named coupon."""
        profile_key, programs_key = keys.member(member_id_for(customer_hash)), keys.reward_programs()
        coupon_key = keys.coupon(coupon_code) if coupon_code else None

        def decode(found: dict[ops.Key, dict[str, Any]]) -> BuyerContext:
            profile, coupon, coupon_unreadable = None, None, False
            if profile_key in found:
                with contextlib.suppress(UnreadableRecord):  # reported; the order is recorded without its member side
                    profile = read_one("/".join(profile_key), _profile_from, found[profile_key])
            if coupon_key and coupon_key in found:
                try:
                    coupon = read_one("/".join(coupon_key), _coupon_from, found[coupon_key])
                except UnreadableRecord:
                    coupon_unreadable = True
            return BuyerContext(profile, _programs_from(found.get(programs_key)), coupon, coupon_unreadable)

        return Reads((profile_key, programs_key, *((coupon_key,) if coupon_key else ())), decode)

    def state(self, member_id: str) -> MemberState | None:
        """The member's whole partition (profile, rewards, entries, redemptions, refusals, outbox)."""
        profile: MemberProfile | None = None
        rewards: list[AdvocateReward] = []
        entries: list[RewardEntry] = []
        redemptions: dict[str, Redemption] = {}
        refusals: dict[str, RefusalRecord] = {}
        outbox: set[str] = set()
        for item in self.table.query(keys.member_pk(member_id)):
            sk = item[schema.SK]
            if sk == keys.MEMBER_PROFILE:
                profile = _profile_from(item)
            elif sk.startswith(keys.MEMBER_REWARD):
                rewards.append(_reward_from(item))
            elif sk.startswith(keys.MEMBER_ENTRY):
                entries.append(_entry_from(item))
            elif sk.startswith(keys.MEMBER_REDEMPTION):
                redemptions[item["redemption_id"]] = _redemption_from(member_id, item)
            elif sk.startswith(keys.MEMBER_REFUSAL):
                refusals[item["refusal_id"]] = _refusal_from(item)
            elif sk.startswith(keys.MEMBER_OUTBOX):
                outbox.add(item["event_id"])
        if profile is None:
            return None
        return MemberState(profile, tuple(rewards), tuple(entries), redemptions, refusals, frozenset(outbox))

    def coupons_of(self, member_id: str, limit: int = 100) -> list[Coupon]:
        """The member's coupons, newest first."""
        return [
            _coupon_from(i)
            for i in self.table.query(
                keys.member_coupons_index(member_id), index=schema.GSI1, forward=False, limit=limit
            )
        ]

    def member_ids(self) -> Iterator[str]:
        """Every member, page by page, index partition by partition (in no overall order), those
        indexed by older releases first."""
        for pk in (keys.MEMBERS_INDEX, *(keys.members_index(sub) for sub in range(keys.MEMBER_SUBS))):
            for item in self.table.query(pk, index=schema.GSI1, projection="member_id"):
                yield item["member_id"]

    def refusals(self, limit: int = 100) -> list[RefusalRecord]:
        """The latest refusals across members, newest first."""
        return [
            _refusal_from(i)
            for i in self.table.query(keys.REFUSALS_INDEX, index=schema.GSI1, forward=False, limit=limit)
        ]

    def outbox_due(self, until: datetime, limit: int = 100) -> list[OutboxItem]:
        """Notifications whose time has come by `until`, oldest first."""
        return [
            _outbox_from(i)
            for i in self.table.query(
                keys.OUTBOX_INDEX, index=schema.GSI1, limit=limit, sk_between=("0", f"{iso(until)}#\uffff")
            )
        ]

    def outbox_waiting(self, after: datetime, limit: int = 100) -> list[OutboxItem]:
        """Notifications held until later (a member's quiet hours), soonest first."""
        return [
            _outbox_from(i)
            for i in self.table.query(
                keys.OUTBOX_INDEX, index=schema.GSI1, limit=limit, sk_between=(f"{iso(after)}#\uffff", "\uffff")
            )
        ]

    def resolve_invite(self, code: str) -> str | None:
        """The member whose invite code this is."""
        item = self.table.get(keys.invite_code(code), consistent=False)
        return item["member_id"] if item else None

    # ---- writes --------------------------------------------------------------------------------
    @staticmethod
    def new_program(p: RewardProgram, created_by: str, now: datetime) -> Put:
        """The program version's own item: the claim of a publish (versions are never edited)."""
        return put_new(
            keys.reward_program_version(p.version),
            {"doc": _program_doc(p), "created_by": created_by, "created_at": iso(now)},
        )

    @staticmethod
    def program_listed(p: RewardProgram, existing: int) -> Update:
        """The version appended to the list the order path reads, only if the list still holds the
        `existing` versions it was numbered after."""
        return Update(
            keys.reward_programs(),
            append={"versions": [_program_doc(p)]},
            when=ops.Absent("versions") | ops.SizeIs("versions", existing),
        )

    @staticmethod
    def new(p: MemberProfile, balances: Mapping[str, int]) -> Put:
        """The member's profile: the claim of a registration (its existence means "registered")."""
        m, i = p.member, p.member.identity
        return put_new(
            keys.member(m.member_id),
            {
                "member_id": i.member_id,
                "customer_hash": i.customer_hash,
                "email_hash": i.email_hash,
                "phone_hash": i.phone_hash,
                "payment_hash": i.payment_hash,
                "invite_code": m.invite_code,
                "tz": m.quiet.tz,
                "quiet_start": m.quiet.start.strftime("%H:%M"),
                "quiet_end": m.quiet.end.strftime("%H:%M"),
                "tier": m.tier.tier,
                "tier_since": iso(m.created_at),
                "advocate_id": m.advocate_id,
                "ledger_seq": m.ledger_seq,
                **{f"bal_{u}": n for u, n in balances.items()},
                "created_at": iso(m.created_at),
                "fingerprint": p.fingerprint,
                "signup": json.dumps(dict(p.signup), sort_keys=True),
                "advocate_payment_hash": p.advocate_payment_hash,
                schema.GSI1PK: keys.members_index(shard_of(i.member_id, keys.MEMBER_SUBS)),
                schema.GSI1SK: f"{iso(m.created_at)}#{i.member_id}",
            },
        )

    @staticmethod
    def new_invite_code(code: str, member_id: str, now: datetime) -> Put:
        return put_new(keys.invite_code(code), {"code": code, "member_id": member_id, "created_at": iso(now)})

    @staticmethod
    def new_identity_claim(kind: str, value_hash: str, member_id: str) -> Put:
        """This email, phone or card hash is first registered by `member_id`."""
        return put_new(keys.identity_claim(kind, value_hash), {"member_id": member_id})

    @staticmethod
    def new_entry(e: RewardEntry) -> Put:
        return put_new(keys.member_entry(e.member_id, e.entry_id), _entry_item(e))

    @staticmethod
    def new_reward(r: AdvocateReward) -> Put:
        return put_new(keys.member_reward(r.advocate_id, r.reward_id), _reward_item(r))

    @staticmethod
    def new_coupon(c: Coupon) -> Put:
        return put_new(
            keys.coupon(c.code),
            {
                "code": c.code,
                "member_id": c.member_id,
                "value_minor": c.value_minor,
                "currency": c.currency,
                "min_order_minor": c.min_order_minor,
                "source": c.source,
                "created_at": iso(c.created_at),
                "expires_at": iso(c.expires_at),
                "for_order": c.for_order,
                schema.GSI1PK: keys.member_coupons_index(c.member_id),
                schema.GSI1SK: f"{iso(c.created_at)}#{c.code}",
            },
        )

    @staticmethod
    def new_refusal(r: RefusalRecord) -> Put:
        return put_new(
            keys.member_refusal(r.advocate_id, r.refusal_id),
            {
                "refusal_id": r.refusal_id,
                "advocate_id": r.advocate_id,
                "friend_id": r.friend_id,
                "code": r.code,
                "message": r.message,
                "at": iso(r.at),
                schema.GSI1PK: keys.REFUSALS_INDEX,
                schema.GSI1SK: f"{iso(r.at)}#{r.advocate_id}#{r.refusal_id}",
            },
        )

    @staticmethod
    def new_notification(n: Notification) -> Put:
        entry = n.eventbridge_entry()
        return put_new(
            keys.member_outbox(n.member_id, n.event_id),
            {
                "event_id": n.event_id,
                "member_id": n.member_id,
                "created_at": iso(n.created_at),
                "not_before": iso(n.not_before),
                "source": entry["Source"],
                "detail_type": entry["DetailType"],
                "detail": entry["Detail"],
                schema.GSI1PK: keys.OUTBOX_INDEX,
                schema.GSI1SK: f"{iso(n.not_before)}#{n.member_id}#{n.event_id}",
            },
        )

    @staticmethod
    def new_redemption(r: Redemption) -> Put:
        """The redemption record: the claim of a redemption."""
        return put_new(
            keys.member_redemption(r.member_id, r.redemption_id),
            {
                "redemption_id": r.redemption_id,
                "fingerprint": r.fingerprint,
                "created_at": iso(r.created_at),
                "result": json.dumps(dict(r.result), sort_keys=True),
            },
        )

    @staticmethod
    def ledger_moved(
        member_id: str,
        seq: int,
        balances: Mapping[str, int],
        now: datetime,
        tier: TierState | None = None,
        invites_on: Mapping[str, int] | None = None,
        reviewed_month: str | None = None,
        prune_days: Iterable[str] = (),
    ) -> Update:
        """The balance projection moves with the entries, only from the sequence number it was read
        at: two writers racing on one member's ledger take turns. With it: a tier change, invites
        counted on their days, the month reviewed, and activity days too old to matter removed."""
        sets: dict[str, Any] = {"ledger_seq": seq + 1, **{f"bal_{u}": n for u, n in sorted(balances.items())}}
        if tier is not None:
            sets.update({"tier": tier.tier, "grace_since": tier.grace_since or "", "tier_since": iso(now)})
        if reviewed_month is not None:
            sets["reviewed_month"] = reviewed_month
        adds = {_day_attr(day, "i"): n for day, n in sorted((invites_on or {}).items())}
        removes = tuple(_day_attr(d, w) for d in sorted(prune_days) for w in "soi")
        return Update(keys.member(member_id), set=sets, add=adds, remove=removes, when=ops.eq("ledger_seq", seq))

    @staticmethod
    def order_recorded(
        member_id: str, day: str, spend_minor: int, first_order_id: str | None, tier: TierState | None, now: datetime
    ) -> Update:
        """The buyer's activity on the order's day (ADD: commutative, needs no condition beyond the
        profile existing), its first qualifying order (once), and an upgrade the order earned."""
        sets: dict[str, Any] = {}
        when: ops.Cond = ops.ITEM_PRESENT
        if first_order_id:
            sets["first_order_id"] = first_order_id
            when = when & ops.Absent("first_order_id")
        if tier is not None:
            sets.update({"tier": tier.tier, "grace_since": tier.grace_since or "", "tier_since": iso(now)})
        return Update(
            keys.member(member_id), set=sets, add={_day_attr(day, "s"): spend_minor, _day_attr(day, "o"): 1}, when=when
        )

    @staticmethod
    def spend_refunded(member_id: str, day: str, refund_minor: int) -> Update:
        """A refund takes its amount off the buyer's spend on the order's day."""
        return Update(keys.member(member_id), add={_day_attr(day, "s"): -refund_minor})

    @staticmethod
    def reward_refunded(advocate_id: str, reward_id: str, refund_id: str, at: datetime) -> Update:
        """The advocate reward an order created is marked refunded, once: the first refund that took
        the order below the minimum stays the one recorded."""
        return Update(
            keys.member_reward(advocate_id, reward_id), set_if_absent={"refunded_at": iso(at), "refund_id": refund_id}
        )

    @staticmethod
    def coupon_used(code: str, order_id: str, now: datetime) -> Update:
        """The coupon is used by this order, if it exists and no order used it yet."""
        return Update(
            keys.coupon(code),
            set={"used_by_order": order_id, "used_at": iso(now)},
            when=ops.ITEM_PRESENT & ops.Absent("used_by_order"),
        )
