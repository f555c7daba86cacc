"""Orders, refunds and customer bindings: the items an order or a refund records, and the one
batch read that gathers what an order needs before its partner is known."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from ..domain.attribution import BindingRef, ClickRef
from ..domain.ledger import COMMISSION, Entry
from ..domain.links import CodeRef
from ..domain.orders import RecordedOrder, RecordedRefund
from ..domain.partners import Partner
from ..domain.periods import OPEN
from ..domain.plans import Plan
from ..domain.settlement import shard_of
from . import keys, ops, schema
from .items import iso, parse_iso
from .links import LinkRepo, code_from
from .ops import Check, Put, Update, eq, put_new
from .partners import partner_from
from .plans import plan_versions_from
from .reads import Reads
from .stats import Figures, StatsRepo

T = TypeVar("T")


def order_from(item: dict[str, Any]) -> RecordedOrder:
    ordered_at = parse_iso(item["ordered_at"])
    payable_at = ordered_at + timedelta(days=item.get("holding_days", 0))
    entries = tuple(
        Entry(
            ln["entry_id"],
            COMMISSION,
            ln["partner_id"],
            item["order_id"],
            ln["level"],
            ln["amount_minor"],
            item["currency"],
            item["plan_version"],
            ln["rate_bps"],
            ordered_at,
            payable_at,
            period=item.get("period", ""),
            settles_in=item.get("settles_in", ""),
        )
        for ln in item.get("lines", [])
    )
    result = json.loads(item["result"])
    return RecordedOrder(
        item["order_id"],
        item["fingerprint"],
        item["amount_minor"],
        item["currency"],
        ordered_at,
        item.get("refunded_minor", 0),
        entries,
        result,
        attributed_to=item.get("attributed_to"),
        period=item.get("period", ""),
        settles_in=item.get("settles_in") or "",
        rejected=bool(item.get("rejected_at")),
        dispute_open=item.get("dispute_open"),
    )


@dataclass(frozen=True)
class OrderContext(Generic[T]):
    """Everything an order needs that can be read before its partner is known: one batch read."""

    order: RecordedOrder | None
    click: ClickRef | None
    code: CodeRef | None
    binding: BindingRef | None
    plans: list[Plan]
    also: T | None = None  # what another area asked to read along (the buyer's member items)
    partner: Partner | None = None  # the partner named in advance (a hint), read in the same batch
    partner_figures: Figures | None = None  # that partner's running figures (a projection)
    coupon: CodeRef | None = None  # what the order's coupon code names in the code namespace, if anything
    buyer_partners: frozenset[str] = field(default_factory=frozenset)  # partners whose identity is the buyer's


@dataclass(frozen=True)
class OrderRecord:
    """What an order item stores: its idempotency fingerprint, what it credited and its result."""

    order_id: str
    fingerprint: str
    amount_minor: int
    currency: str
    ordered_at: datetime
    customer_hash: str
    plan: Plan | None
    entries: tuple[Entry, ...]
    result: dict[str, Any]
    created_at: datetime
    period: str
    attributed_to: str | None


@dataclass(frozen=True)
class Hold:
    order_id: str
    partner_id: str
    reasons: tuple[str, ...]
    held_at: datetime
    currency: str
    amount_minor: int


class OrderRepo:
    def __init__(self, table: Any, links: LinkRepo, stats: StatsRepo):
        self.table = table
        self.links = links
        self.stats = stats

    # ---- reads -----------------------------------------------------------------------------
    def context(
        self,
        order_id: str,
        click_id: str | None,
        code: str | None,
        customer_hash: str,
        identity_hashes: tuple[str, ...] = (),
        partner_hint: str | None = None,
        also: Reads[T] | None = None,
        coupon: str | None = None,
    ) -> OrderContext[T]:
        """In one batch read: the order (idempotency), click, the codes it names (a referral code and
        a coupon code, from the process's cache when known), binding, plans, the buyer's identity
        hashes (fraud: is the buyer a partner?), the partner a hint names, and what `also` asks for."""
        wanted = [
            keys.order(order_id),
            keys.binding(customer_hash),
            keys.plans(),
            *(keys.identity(h) for h in identity_hashes),
            *(also.keys if also else ()),
        ]
        if click_id:
            wanted.append(keys.click(click_id))
        figures = None
        if partner_hint:
            figures = self.stats.of(partner_hint)
            wanted += [keys.partner(partner_hint), *figures.keys]
        codes = {c: self.links.cached(c) for c in (code, coupon) if c}
        wanted += [keys.code(c) for c, ref in codes.items() if ref is None and keys.code(c) not in wanted]
        found = self.table.batch_get(wanted)
        for c, ref in codes.items():
            if ref is None and keys.code(c) in found:
                codes[c] = read = code_from(found[keys.code(c)])
                self.links.remember(read)  # codes never change once written
        order = found.get(keys.order(order_id))
        click = found.get(keys.click(click_id)) if click_id else None
        binding = found.get(keys.binding(customer_hash))
        partner = found.get(keys.partner(partner_hint)) if partner_hint else None
        return OrderContext(
            order=order_from(order) if order else None,
            click=ClickRef(click["click_id"], click["partner_id"], parse_iso(click["clicked_at"])) if click else None,
            code=codes.get(code) if code else None,
            coupon=codes.get(coupon) if coupon else None,
            binding=BindingRef(
                binding["partner_id"],
                parse_iso(binding["bound_until"]) if binding.get("bound_until") else None,
                tuple(binding.get("upline") or ()),
            )
            if binding
            else None,
            plans=plan_versions_from(found.get(keys.plans())).items,
            also=also.of(found) if also else None,
            partner=partner_from(partner) if partner else None,
            partner_figures=figures.of(found) if figures and partner else None,
            buyer_partners=frozenset(
                found[keys.identity(h)]["partner_id"] for h in identity_hashes if keys.identity(h) in found
            ),
        )

    def get(self, order_id: str) -> RecordedOrder | None:
        item = self.table.get(keys.order(order_id))
        return order_from(item) if item else None

    def history(self, order_id: str) -> dict[str, Any]:
        """Everything recorded under an order, in one query of its partition: the order item, its
        refunds, its fraud hold and its disputes (as stored, without their keys)."""
        out: dict[str, Any] = {"order": None, "refunds": [], "hold": None, "disputes": []}
        for item in self.table.query(keys.order(order_id)[0], consistent=True):
            sk = item.pop(schema.SK)
            for k in (schema.PK, schema.GSI1PK, schema.GSI1SK, schema.GSI2PK, schema.GSI2SK):
                item.pop(k, None)
            if sk == keys.order(order_id)[1]:
                out["order"] = item
            elif sk == keys.hold(order_id)[1]:
                out["hold"] = item
            elif sk.startswith("REFUND#"):
                out["refunds"].append(item)
            elif sk.startswith("DISPUTE#"):
                out["disputes"].append(item)
        return out

    def refund_context(self, order_id: str, refund_id: str) -> tuple[RecordedOrder | None, RecordedRefund | None]:
        found = self.table.batch_get([keys.order(order_id), keys.refund(order_id, refund_id)])
        order = found.get(keys.order(order_id))
        refund = found.get(keys.refund(order_id, refund_id))
        return (
            order_from(order) if order else None,
            (
                RecordedRefund(order_id, refund_id, refund["fingerprint"], json.loads(refund["result"]))
                if refund
                else None
            ),
        )

    def period_status(self, period: str) -> str:
        item = self.table.get(keys.period(period))
        return item["status"] if item else OPEN

    # ---- writes ----------------------------------------------------------------------------
    def new(self, o: OrderRecord) -> Put:
        """The order item: the claim of an order (its existence means it was recorded)."""
        e = o.entries
        return put_new(
            keys.order(o.order_id),
            {
                "order_id": o.order_id,
                "fingerprint": o.fingerprint,
                "amount_minor": o.amount_minor,
                "currency": o.currency,
                "ordered_at": iso(o.ordered_at),
                "customer_hash": o.customer_hash,
                "period": o.period,
                "settles_in": e[0].settles_in if e else None,
                "attributed_to": o.attributed_to,
                "plan_version": o.plan.version if o.plan else 0,
                "holding_days": o.plan.holding_days if o.plan else 0,
                "refunded_minor": 0,
                "created_at": iso(o.created_at),
                "lines": [
                    {
                        "entry_id": x.entry_id,
                        "partner_id": x.partner_id,
                        "level": x.level,
                        "amount_minor": x.amount_minor,
                        "rate_bps": x.rate_bps,
                    }
                    for x in e
                ],
                "result": json.dumps(o.result, sort_keys=True),
            },
        )

    def bind(self, customer_hash: str, binding: BindingRef, order_id: str, at: datetime) -> Put:
        """The customer's binding to a partner, unless a live one exists (a race keeps the first)."""
        return Put(
            keys.binding(customer_hash),
            {
                "partner_id": binding.partner_id,
                "bound_until": iso(binding.bound_until) if binding.bound_until else None,
                "order_id": order_id,
                "upline": list(binding.upline_hint),
            },
            when=ops.Absent() | (ops.Present("bound_until") & ops.le("bound_until", iso(at))),
        )

    def hold(self, h: Hold) -> Put:
        """The order's commissions wait for review (services/holds.py)."""
        return Put(
            keys.hold(h.order_id),
            {
                "order_id": h.order_id,
                "partner_id": h.partner_id,
                "reasons": list(h.reasons),
                "held_at": h.held_at.isoformat(),
                "status": "held",
                "currency": h.currency,
                "amount_minor": h.amount_minor,
                schema.GSI1PK: keys.holds_index(shard_of(h.order_id, keys.HOLD_SUBS)),
                schema.GSI1SK: f"{iso(h.held_at)}#{h.order_id}",
            },
        )

    # ---- disputes (services/disputes.py) -------------------------------------------------------
    def dispute(self, order_id: str, dispute_id: str) -> dict[str, Any] | None:
        return self.table.get(keys.dispute(order_id, dispute_id))

    def dispute_opened(
        self,
        order: RecordedOrder,
        dispute_id: str,
        partner_id: str,
        held: list[Entry],
        result: dict[str, Any],
        at: datetime,
    ) -> tuple[Put, Update]:
        """The dispute record (the claim; listed with the held orders for review) and the order marked
        disputed, from the refunded total read (a refund racing it makes it read again)."""
        return (
            put_new(
                keys.dispute(order.order_id, dispute_id),
                {
                    "order_id": order.order_id,
                    "dispute_id": dispute_id,
                    "partner_id": partner_id,
                    "reasons": ["dispute"],
                    "status": "disputed",
                    "held_at": iso(at),
                    "currency": order.currency,
                    "amount_minor": order.amount_minor - order.refunded_minor,
                    "result": json.dumps(result, sort_keys=True),
                    "held": [
                        {
                            "entry_id": e.entry_id,
                            "partner_id": e.partner_id,
                            "level": e.level,
                            "amount_minor": e.amount_minor,
                            "plan_version": e.plan_version,
                            "rate_bps": e.rate_bps,
                            "payable_at": iso(e.payable_at),
                        }
                        for e in held
                    ],
                    schema.GSI1PK: keys.holds_index(shard_of(order.order_id, keys.HOLD_SUBS)),
                    schema.GSI1SK: f"{iso(at)}#{order.order_id}#{dispute_id}",
                },
            ),
            Update(
                keys.order(order.order_id),
                set={"dispute_open": dispute_id},
                when=eq("refunded_minor", order.refunded_minor) & ops.Absent("dispute_open"),
            ),
        )

    def dispute_closed(
        self,
        order: RecordedOrder,
        dispute_id: str,
        status: str,
        refunded_minor: int,
        result: dict[str, Any],
        at: datetime,
    ) -> list[ops.TransactOp]:
        """The dispute closed (won or lost), once: conditional on it being open; the order no longer
        disputed, its refunded total moved to `refunded_minor` from the value read."""
        return [
            Update(
                keys.dispute(order.order_id, dispute_id),
                set={"status": status, "closed_at": iso(at), "closed_result": json.dumps(result, sort_keys=True)},
                when=eq("status", "disputed"),
            ),
            Update(
                keys.order(order.order_id),
                set={"refunded_minor": refunded_minor},
                remove=("dispute_open",),
                when=eq("refunded_minor", order.refunded_minor) & eq("dispute_open", dispute_id),
            ),
        ]

    def period_open(self, period: str) -> Check:
        """Entries may land in a period only until settlement starts closing it."""
        return Check(keys.period(period), ops.Absent() | eq("status", OPEN))

    def new_refund(
        self, order_id: str, refund_id: str, fingerprint: str, amount_minor: int, result: dict[str, Any], now: datetime
    ) -> Put:
        """The refund record: the claim of a refund."""
        return put_new(
            keys.refund(order_id, refund_id),
            {
                "order_id": order_id,
                "refund_id": refund_id,
                "fingerprint": fingerprint,
                "amount_minor": amount_minor,
                "created_at": iso(now),
                "result": json.dumps(result, sort_keys=True),
            },
        )

    def refunded(self, order: RecordedOrder, amount_minor: int) -> Update:
        """The order's refunded total, moved only from the value it was read at: two refunds
        racing cannot together reverse more than the order earned."""
        return Update(
            keys.order(order.order_id),
            set={"refunded_minor": order.refunded_minor + amount_minor},
            when=eq("refunded_minor", order.refunded_minor),
        )
