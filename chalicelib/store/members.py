"""Members in the one table: items are shaped here and nowhere else. Services compose the
operations below into one TransactWriteItems per use case."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Iterator

from ..domain.members import Member
from ..domain.notifications import Notification, QuietHours, parse_hhmm
from ..domain.rewards import AdvocateReward, Refusal, Reward, RewardEntry, RewardProgram
from ..domain.tiers import Activity, TierProgram, TierRule, TierState
from . import keys, schema
from .dynamo import Op, Table
from .keys import Key
from .readable import Versions, read_versions
from .repository import iso, parse_iso

DAY_PREFIX = "d#"  # activity buckets on the profile: d#YYYYMMDD#s (spend), #o (orders), #i (invites)


def _t(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


# ---- reward programs ------------------------------------------------------------------------------

def program_doc(p: RewardProgram) -> str:
    d = asdict(p)
    d["effective_from"] = iso(p.effective_from)
    return json.dumps(d, sort_keys=True)


def program_from_doc(doc: str) -> RewardProgram:
    d = json.loads(doc)
    tiers = d.pop("tiers")
    tiers["rules"] = tuple(TierRule(**r) for r in tiers["rules"])
    return RewardProgram(**{**d, "effective_from": parse_iso(d["effective_from"]),
                            "friend_reward": Reward(**d["friend_reward"]),
                            "advocate_reward": Reward(**d["advocate_reward"]), "tiers": TierProgram(**tiers)})


def program_versions_from(item: dict[str, Any] | None) -> Versions[RewardProgram]:
    """Every stored version that can be read; one that cannot is skipped and reported (store/readable.py)."""
    return read_versions("/".join(keys.reward_programs()), (item or {}).get("versions", []), program_from_doc)


def programs_from(item: dict[str, Any] | None) -> list[RewardProgram]:
    return program_versions_from(item).items


# ---- members ------------------------------------------------------------------------------------

def day_attr(day: str, what: str) -> str:
    return f"{DAY_PREFIX}{day}#{what}"


def member_from(item: dict[str, Any]) -> Member:
    from ..domain.rewards import Identity

    days: dict[str, Activity] = {}
    for name, value in item.items():
        if name.startswith(DAY_PREFIX):
            _, day, what = name.split("#")
            a = days.get(day, Activity())
            days[day] = Activity(a.spend_minor + (value if what == "s" else 0),
                                 a.orders + (value if what == "o" else 0), a.invites + (value if what == "i" else 0))
    return Member(
        identity=Identity(item["member_id"], item["customer_hash"], item.get("email_hash"), item.get("phone_hash"),
                          item.get("payment_hash")),
        invite_code=item["invite_code"],
        quiet=QuietHours(item.get("tz", "UTC"), parse_hhmm(item.get("quiet_start", "21:00")),
                         parse_hhmm(item.get("quiet_end", "09:00"))),
        tier=TierState(item.get("tier", "normal"), item.get("grace_since") or None),
        created_at=parse_iso(item["created_at"]), advocate_id=item.get("advocate_id"),
        first_order_id=item.get("first_order_id"), ledger_seq=item.get("ledger_seq", 0), days=days,
    )


def member_item(m: Member, fingerprint: str, signup: dict[str, Any], balances: dict[str, int]) -> dict[str, Any]:
    i = m.identity
    return {
        "member_id": i.member_id, "customer_hash": i.customer_hash, "email_hash": i.email_hash,
        "phone_hash": i.phone_hash, "payment_hash": i.payment_hash, "invite_code": m.invite_code,
        "tz": m.quiet.tz, "quiet_start": m.quiet.start.strftime("%H:%M"), "quiet_end": m.quiet.end.strftime("%H:%M"),
        "tier": m.tier.tier, "tier_since": iso(m.created_at), "advocate_id": m.advocate_id,
        "ledger_seq": m.ledger_seq, **{f"bal_{u}": n for u, n in balances.items()},
        "created_at": iso(m.created_at), "fingerprint": fingerprint, "signup": json.dumps(signup, sort_keys=True),
        schema.GSI1PK: keys.MEMBERS_INDEX, schema.GSI1SK: f"{iso(m.created_at)}#{i.member_id}",
    }


def reward_item(r: AdvocateReward) -> dict[str, Any]:
    return {"reward_id": r.reward_id, "advocate_id": r.advocate_id, "friend_id": r.friend_id, "order_id": r.order_id,
            "unit": r.unit, "base_amount": r.base_amount, "qualified_at": iso(r.qualified_at),
            "matures_at": iso(r.matures_at), "program_version": r.program_version, "cap_per_month": r.cap_per_month,
            "cap_per_year": r.cap_per_year, "expiry_days": r.expiry_days}


def reward_from(item: dict[str, Any]) -> AdvocateReward:
    return AdvocateReward(
        item["reward_id"], item["advocate_id"], item["friend_id"], item["order_id"], item["unit"],
        item["base_amount"], parse_iso(item["qualified_at"]), parse_iso(item["matures_at"]), item["program_version"],
        item["cap_per_month"], item["cap_per_year"], item["expiry_days"], _t(item.get("refunded_at")),
        item.get("refund_id"))


def entry_item(e: RewardEntry) -> dict[str, Any]:
    return {"entry_id": e.entry_id, "member_id": e.member_id, "kind": e.kind, "unit": e.unit, "amount": e.amount,
            "occurred_at": iso(e.occurred_at), "source": e.source,
            "expires_at": iso(e.expires_at) if e.expires_at else None, "lot": e.lot,
            "allocations": [{"lot": lot, "amount": n} for lot, n in e.allocations] or None}


def entry_from(item: dict[str, Any]) -> RewardEntry:
    return RewardEntry(item["entry_id"], item["member_id"], item["kind"], item["unit"], item["amount"],
                       parse_iso(item["occurred_at"]), item["source"], _t(item.get("expires_at")), item.get("lot"),
                       tuple((a["lot"], a["amount"]) for a in item.get("allocations") or ()))


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


def coupon_item(c: Coupon) -> dict[str, Any]:
    return {"code": c.code, "member_id": c.member_id, "value_minor": c.value_minor, "currency": c.currency,
            "min_order_minor": c.min_order_minor, "source": c.source, "created_at": iso(c.created_at),
            "expires_at": iso(c.expires_at), "for_order": c.for_order,
            schema.GSI1PK: keys.member_coupons_index(c.member_id), schema.GSI1SK: f"{iso(c.created_at)}#{c.code}"}


def coupon_from(item: dict[str, Any]) -> Coupon:
    return Coupon(item["code"], item["member_id"], item["value_minor"], item["currency"], item["min_order_minor"],
                  item["source"], parse_iso(item["created_at"]), parse_iso(item["expires_at"]), item.get("for_order"),
                  item.get("used_by_order"))


@dataclass
class MemberState:
    """A member's whole partition, from one Query."""
    member: Member
    profile: dict[str, Any]
    rewards: list[AdvocateReward] = field(default_factory=list)  # as the advocate
    entries: list[RewardEntry] = field(default_factory=list)
    redemptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refusals: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbox: set[str] = field(default_factory=set)


class MemberStore:
    def __init__(self, table: Table):
        self.table = table

    # ---- reads ---------------------------------------------------------------------------------
    def programs(self) -> list[RewardProgram]:
        return self.program_versions().items

    def program_versions(self) -> Versions[RewardProgram]:
        return program_versions_from(self.table.get(keys.reward_programs()))

    def get_many(self, wanted: list[Key]) -> dict[Key, dict[str, Any]]:
        return self.table.batch_get(wanted)

    def state(self, member_id: str) -> MemberState | None:
        st: MemberState | None = None
        rest: list[dict[str, Any]] = []
        for item in self.table.query(keys.member_pk(member_id)):
            if item[schema.SK] == keys.MEMBER_PROFILE:
                st = MemberState(member_from(item), item)
            else:
                rest.append(item)
        if st is None:
            return None
        for item in rest:
            sk = item[schema.SK]
            if sk.startswith(keys.MEMBER_REWARD):
                st.rewards.append(reward_from(item))
            elif sk.startswith(keys.MEMBER_ENTRY):
                st.entries.append(entry_from(item))
            elif sk.startswith(keys.MEMBER_REDEMPTION):
                st.redemptions[item["redemption_id"]] = item
            elif sk.startswith(keys.MEMBER_REFUSAL):
                st.refusals[item["refusal_id"]] = item
            elif sk.startswith(keys.MEMBER_OUTBOX):
                st.outbox.add(item["event_id"])
        return st

    def coupons_of(self, member_id: str, limit: int = 100) -> list[Coupon]:
        return [coupon_from(i) for i in self.table.query(keys.member_coupons_index(member_id), index=schema.GSI1,
                                                           forward=False, limit=limit)]

    def member_ids(self) -> Iterator[str]:
        for item in self.table.query(keys.MEMBERS_INDEX, index=schema.GSI1, projection="member_id"):
            yield item["member_id"]

    def refusals(self, limit: int = 100) -> list[dict[str, Any]]:
        return [{k: i.get(k) for k in ("refusal_id", "advocate_id", "friend_id", "code", "message", "at")}
                for i in self.table.query(keys.REFUSALS_INDEX, index=schema.GSI1, forward=False, limit=limit)]

    def outbox_due(self, until: datetime, limit: int = 100) -> list[dict[str, Any]]:
        """Notifications whose time has come by `until`, oldest first."""
        return list(self.table.query(keys.OUTBOX_INDEX, index=schema.GSI1, limit=limit,
                                     sk_between=("0", f"{iso(until)}#\uffff")))

    def outbox_waiting(self, after: datetime, limit: int = 100) -> list[dict[str, Any]]:
        """Notifications held until later (a member's quiet hours), soonest first."""
        return list(self.table.query(keys.OUTBOX_INDEX, index=schema.GSI1, limit=limit,
                                     sk_between=(f"{iso(after)}#\uffff", "\uffff")))

    def resolve_invite(self, code: str) -> str | None:
        item = self.table.get(keys.invite_code(code), consistent=False)
        return item["member_id"] if item else None

    # ---- operations (composed by the services into one transaction) ----------------------------
    @staticmethod
    def put_program(p: RewardProgram, existing: int, created_by: str, now: datetime) -> list[dict[str, Any]]:
        doc = program_doc(p)
        return [
            Op.put_new(keys.reward_program_version(p.version), {"doc": doc, "created_by": created_by,
                                                                 "created_at": iso(now)}),
            Op.update(keys.reward_programs(), "SET versions = list_append(if_not_exists(versions, :empty), :new)",
                      values={":empty": [], ":new": [doc], ":n": existing},
                      condition="attribute_not_exists(versions) OR size(versions) = :n"),
        ]

    @staticmethod
    def put_member(m: Member, fingerprint: str, signup: dict[str, Any], balances: dict[str, int],
                   advocate_payment_hash: str | None = None) -> dict[str, Any]:
        return Op.put_new(keys.member(m.member_id), {**member_item(m, fingerprint, signup, balances),
                                                     "advocate_payment_hash": advocate_payment_hash})

    @staticmethod
    def put_invite_code(code: str, member_id: str, now: datetime) -> dict[str, Any]:
        return Op.put_new(keys.invite_code(code), {"code": code, "member_id": member_id, "created_at": iso(now)})

    @staticmethod
    def put_claim(kind: str, value_hash: str, member_id: str) -> dict[str, Any]:
        return Op.put_new(keys.identity_claim(kind, value_hash), {"member_id": member_id})

    @staticmethod
    def put_entry(e: RewardEntry) -> dict[str, Any]:
        return Op.put_new(keys.member_entry(e.member_id, e.entry_id), entry_item(e))

    @staticmethod
    def put_reward(r: AdvocateReward) -> dict[str, Any]:
        return Op.put_new(keys.member_reward(r.advocate_id, r.reward_id), reward_item(r))

    @staticmethod
    def put_coupon(c: Coupon) -> dict[str, Any]:
        return Op.put_new(keys.coupon(c.code), coupon_item(c))

    @staticmethod
    def put_refusal(member_id: str, refusal_id: str, refusal: Refusal, friend_id: str | None,
                    at: datetime) -> dict[str, Any]:
        return Op.put_new(keys.member_refusal(member_id, refusal_id), {
            "refusal_id": refusal_id, "advocate_id": member_id, "friend_id": friend_id, "code": refusal.code,
            "message": refusal.message, "at": iso(at),
            schema.GSI1PK: keys.REFUSALS_INDEX, schema.GSI1SK: f"{iso(at)}#{member_id}#{refusal_id}"})

    @staticmethod
    def put_notification(n: Notification) -> dict[str, Any]:
        entry = n.eventbridge_entry()
        return Op.put_new(keys.member_outbox(n.member_id, n.event_id), {
            "event_id": n.event_id, "member_id": n.member_id, "created_at": iso(n.created_at),
            "not_before": iso(n.not_before), "source": entry["Source"], "detail_type": entry["DetailType"],
            "detail": entry["Detail"],
            schema.GSI1PK: keys.OUTBOX_INDEX, schema.GSI1SK: f"{iso(n.not_before)}#{n.member_id}#{n.event_id}"})

    @staticmethod
    def put_redemption(member_id: str, redemption_id: str, fingerprint: str, result: dict[str, Any],
                       now: datetime) -> dict[str, Any]:
        return Op.put_new(keys.member_redemption(member_id, redemption_id), {
            "redemption_id": redemption_id, "fingerprint": fingerprint, "created_at": iso(now),
            "result": json.dumps(result, sort_keys=True)})

    @staticmethod
    def move_ledger(member_id: str, seq: int, balances: dict[str, int], tier: TierState | None = None,
                    now: datetime | None = None, invites_on: dict[str, int] | None = None,
                    also_set: dict[str, Any] | None = None, remove: list[str] | None = None) -> dict[str, Any]:
        """The balance projection moves with the entries, only from the sequence number it was read
        at: two writers racing on one member's ledger take turns."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {":seq": seq, ":next": seq + 1}
        sets = ["ledger_seq = :next"]
        for i, (unit, n) in enumerate(sorted(balances.items())):
            names[f"#b{i}"] = f"bal_{unit}"
            values[f":b{i}"] = n
            sets.append(f"#b{i} = :b{i}")
        if tier is not None:
            names.update({"#tier": "tier", "#grace": "grace_since"})
            values.update({":tier": tier.tier, ":grace": tier.grace_since or "", ":now": iso(now)})
            sets += ["#tier = :tier", "#grace = :grace", "tier_since = :now"]
        for i, (name, value) in enumerate(sorted((also_set or {}).items())):
            names[f"#x{i}"] = name
            values[f":x{i}"] = value
            sets.append(f"#x{i} = :x{i}")
        adds = []
        for i, (day, n) in enumerate(sorted((invites_on or {}).items())):
            names[f"#i{i}"] = day_attr(day, "i")
            values[f":i{i}"] = n
            adds.append(f"#i{i} :i{i}")
        removes = []
        for i, name in enumerate(remove or []):
            names[f"#r{i}"] = name
            removes.append(f"#r{i}")
        expression = ("SET " + ", ".join(sets) + (" ADD " + ", ".join(adds) if adds else "")
                      + (" REMOVE " + ", ".join(removes) if removes else ""))
        return Op.update(keys.member(member_id), expression, names=names, values=values,
                         condition="ledger_seq = :seq")

    @staticmethod
    def record_order(member_id: str, day: str, spend_minor: int, orders: int, first_order_id: str | None,
                     tier: TierState | None, now: datetime) -> dict[str, Any]:
        """The buyer's activity on the order's day (ADD: commutative, needs no condition), its first
        qualifying order, and an upgrade when the order earned one."""
        names = {"#s": day_attr(day, "s"), "#o": day_attr(day, "o")}
        values: dict[str, Any] = {":s": spend_minor, ":o": orders}
        sets = []
        if first_order_id:
            sets.append("first_order_id = :first")
            values[":first"] = first_order_id
        if tier is not None:
            sets += ["#tier = :tier", "grace_since = :grace", "tier_since = :now"]
            names["#tier"] = "tier"
            values.update({":tier": tier.tier, ":grace": tier.grace_since or "", ":now": iso(now)})
        expression = ("SET " + ", ".join(sets) + " " if sets else "") + "ADD #s :s, #o :o"
        condition = "attribute_exists(PK)" + (" AND attribute_not_exists(first_order_id)" if first_order_id else "")
        return Op.update(keys.member(member_id), expression, names=names, values=values, condition=condition)

    @staticmethod
    def record_refund(order_member: dict[str, Any], refund_id: str, refunded_at: datetime,
                      refund_minor: int, cancels_reward: bool) -> list[dict[str, Any]]:
        """A refund takes its amount off the buyer's spend that day, and marks the advocate reward
        its order created as refunded (once: the first refund that took the order below the minimum)."""
        ops = []
        if order_member.get("spend_counted"):
            ops.append(Op.update(keys.member(order_member["member_id"]), "ADD #s :s",
                                 names={"#s": day_attr(order_member["day"], "s")}, values={":s": -refund_minor}))
        if cancels_reward and order_member.get("reward_id"):
            ops.append(Op.update(
                keys.member_reward(order_member["advocate_id"], order_member["reward_id"]),
                "SET refunded_at = if_not_exists(refunded_at, :at), refund_id = if_not_exists(refund_id, :r)",
                values={":at": iso(refunded_at), ":r": refund_id}))
        return ops

    @staticmethod
    def use_coupon(code: str, order_id: str, now: datetime) -> dict[str, Any]:
        return Op.update(keys.coupon(code), "SET used_by_order = :o, used_at = :at",
                         values={":o": order_id, ":at": iso(now)},
                         condition="attribute_exists(PK) AND attribute_not_exists(used_by_order)")

    @staticmethod
    def prune_days(member_id: str, attrs: list[str]) -> dict[str, Any]:
        names = {f"#p{i}": a for i, a in enumerate(attrs)}
        return Op.update(keys.member(member_id), "REMOVE " + ", ".join(names), names=names)

    def commit(self, ops: list[dict[str, Any]]) -> None:
        self.table.transact(ops)
