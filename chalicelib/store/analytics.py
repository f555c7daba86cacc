"""Program analytics in the table: what the stream's records say for analytics, the per-subject
state items, and the aggregate items (keys.analytics_*; the rules are domain/analytics.py).

- `APERSON#{id}/ANALYTICS`, `APARTNER#{id}/ANALYTICS`: one subject's state and a version; written
  only by the stream consumer (services/analytics.py), conditioned on the version it read.
- `AGG#{kind}/{month}`: the aggregates, only ever added to, in the same transaction as the states
  whose contributions moved them; never inside an order's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..domain import analytics as an
from ..domain.ledger import BONUS, REVERSAL
from ..domain.members import member_id_for
from . import keys, ops
from .dynamo import plain_value
from .ledger import entry_from, is_entry
from .ops import Put, Update


@dataclass(frozen=True)
class OrderSeen:
    person: str
    order_id: str
    facts: an.OrderFacts


@dataclass(frozen=True)
class ProfileSeen:
    member_id: str
    joined: str
    tier: str
    tier_day: str
    advocate_id: str | None
    seq: str


@dataclass(frozen=True)
class PartnerSeen:
    partner_id: str
    joined: str


@dataclass(frozen=True)
class EntrySeen:
    """A bonus or a reversal in a partner's ledger partition (additive: taken in once by its mark)."""

    partner_id: str
    partition: str
    seq: str
    cells: tuple[tuple[an.Cell, int], ...]


@dataclass(frozen=True)
class RewardSeen:
    """An entry of a member's rewards ledger (additive: taken in once by the member's reward mark)."""

    member_id: str
    seq: str
    cells: tuple[tuple[an.Cell, int], ...]


Seen = OrderSeen | ProfileSeen | PartnerSeen | EntrySeen | RewardSeen


def _seen(r: dict[str, Any]) -> Seen | None:
    if r.get("event_name") not in ("INSERT", "MODIFY") or not r.get("new_image"):
        return None
    pk, sk = plain_value(r["keys"]["PK"]), plain_value(r["keys"]["SK"])
    seq = str(r.get("sequence_number", "")).zfill(40)
    item = {k: plain_value(v) for k, v in r["new_image"].items()}
    if pk.startswith("ORDER#") and sk == "ORDER":
        result = json.loads(item.get("result") or "{}")
        facts = an.OrderFacts(
            day=an.day_of(item["ordered_at"]),
            currency=item["currency"],
            amount=int(item["amount_minor"]),
            refunded=int(item.get("refunded_minor") or 0),
            member=bool(result.get("member")),
            partner=item.get("attributed_to") or "",
            commission=sum(int(ln["amount_minor"]) for ln in item.get("lines") or []),
        )
        return OrderSeen(member_id_for(item["customer_hash"]), item["order_id"], facts)
    if pk.startswith(keys.member_pk("")) and sk == keys.MEMBER_PROFILE:
        return ProfileSeen(
            item["member_id"],
            an.day_of(item["created_at"]),
            item.get("tier") or "normal",
            an.day_of(item.get("tier_since") or item["created_at"]),
            item.get("advocate_id") or None,
            seq,
        )
    if pk.startswith(keys.member_pk("")) and sk.startswith(keys.MEMBER_ENTRY):
        cells = an.reward_cells(item["kind"], item["unit"], int(item["amount"]), an.day_of(item["occurred_at"]))
        return RewardSeen(item["member_id"], seq, tuple(cells))
    if pk.startswith("PARTNER#") and sk == keys.PROFILE and r["event_name"] == "INSERT":
        return PartnerSeen(item["partner_id"], an.day_of(item["created_at"]))
    if pk.startswith("LEDGER#") and is_entry(item):
        e = entry_from(item)
        partition = pk.rsplit("#", 1)[1]
        item_id = f"C#{e.currency}#{an.month_of(an.day_of(e.occurred_at))}"
        if e.kind == BONUS:
            return EntrySeen(e.partner_id, partition, seq, (((item_id, "bonuses"), e.amount_minor),))
        if e.kind == REVERSAL and not (e.trace or {}).get("dispute"):
            return EntrySeen(e.partner_id, partition, seq, (((item_id, "reversed"), -e.amount_minor),))
    return None


def seen(records: Iterable[dict[str, Any]]) -> list[Seen]:
    """What the records say for analytics, in the order given; one unreadable record is skipped."""
    out = []
    for r in records:
        try:
            s = _seen(r)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if s is not None:
            out.append(s)
    return out


@dataclass(frozen=True)
class PartnerState:
    facts: an.PartnerFacts
    marks: dict[str, str]  # ledger partition -> last sequence number taken in


def _person_from(item: dict[str, Any] | None) -> tuple[an.Person, int]:
    if not item:
        return an.Person(), 0
    orders = {
        oid: an.OrderFacts(d, c, int(a), int(r), bool(m), p, int(k)) for oid, (d, c, a, r, m, p, k) in item["o"].items()
    }
    tiers = tuple((d, t) for d, t in item.get("t") or [])
    person = an.Person(
        item.get("j") or None, orders, dict(item.get("i") or {}), tiers, item.get("tm") or "", item.get("rm") or ""
    )
    return person, int(item["v"])


def _partner_from(item: dict[str, Any] | None) -> tuple[PartnerState, int]:
    if not item:
        return PartnerState(an.PartnerFacts(), {}), 0
    facts = an.PartnerFacts(item.get("j") or None, frozenset(item.get("act") or []))
    return PartnerState(facts, dict(item.get("w") or {})), int(item["v"])


def _guard(version: int) -> ops.Cond:
    return ops.ITEM_ABSENT if version == 0 else ops.eq("v", version)


class AnalyticsRepo:
    def __init__(self, table: Any):
        self.table = table

    def people(self, ids: Iterable[str]) -> dict[str, tuple[an.Person, int]]:
        """person id -> (its state, its version; 0: none yet)."""
        wanted = list(dict.fromkeys(ids))
        found = self.table.batch_get(keys.analytics_person(i) for i in wanted)
        return {i: _person_from(found.get(keys.analytics_person(i))) for i in wanted}

    def partners(self, ids: Iterable[str]) -> dict[str, tuple[PartnerState, int]]:
        wanted = list(dict.fromkeys(ids))
        found = self.table.batch_get(keys.analytics_partner(i) for i in wanted)
        return {i: _partner_from(found.get(keys.analytics_partner(i))) for i in wanted}

    @staticmethod
    def save_person(person_id: str, p: an.Person, version: int) -> Put:
        """The new state, only over the version read: a state is taken in exactly once."""
        o = {
            oid: [f.day, f.currency, f.amount, f.refunded, int(f.member), f.partner, f.commission]
            for oid, f in p.orders.items()
        }
        attrs = {"o": o, "i": dict(p.invites), "t": [list(t) for t in p.tiers], "tm": p.tier_mark, "rm": p.reward_mark}
        attrs["v"] = version + 1
        if p.joined:
            attrs["j"] = p.joined
        return Put(keys.analytics_person(person_id), attrs, _guard(version))

    @staticmethod
    def save_partner(partner_id: str, s: PartnerState, version: int) -> Put:
        attrs: dict[str, Any] = {"act": sorted(s.facts.active), "w": dict(s.marks), "v": version + 1}
        if s.facts.joined:
            attrs["j"] = s.facts.joined
        return Put(keys.analytics_partner(partner_id), attrs, _guard(version))

    @staticmethod
    def add(item_id: str, deltas: dict[str, int]) -> Update:
        """Add to an aggregate (no condition: the subjects' states in the same transaction are the guard)."""
        return Update(keys.analytics_aggregate(item_id), add=dict(sorted(deltas.items())))

    def aggregates(self, item_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """item id -> its attributes ({} when nothing was added yet), in one batch read."""
        wanted = list(dict.fromkeys(item_ids))
        found = self.table.batch_get(keys.analytics_aggregate(i) for i in wanted)
        out = {}
        for i in wanted:
            item = found.get(keys.analytics_aggregate(i)) or {}
            out[i] = {k: int(v) for k, v in item.items() if k not in ("PK", "SK")}
        return out
