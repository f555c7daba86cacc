"""Attribute an order and credit its commissions; refund it and reverse them.

An order's transaction holds only what belongs to the order or its customer: the order (the claim),
its ledger entries, the partner's sale posting, the customer's binding, a fraud hold and the buyer's
member items. Nothing shared by other orders is in it — no period, no partner, no counter — so orders
never contend with each other (docs/architecture.md, "The path of an order"):
- the period an entry lands in follows from time alone, and settlement of a period starts only a
  fence after its lock, later than any order that decided on it can commit (the unit of work refuses
  to commit past its deadline);
- the chain is walked from each partner's own standing at the order's instant; standings change only
  a fence after they are recorded, so what the order read is right for that instant by construction;
- partners' running figures are a projection of their ledgers (services/projection.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..domain import attribution as attr
from ..domain import fraud
from ..domain.attribution import CLOCK_SKEW
from ..domain.commissions import compute_commissions, reversal_amounts
from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict, NotFound, Unprocessable
from ..domain.fraud import FraudRules
from ..domain.ledger import HOLD, Entry, commission_entries, reversal_entry
from ..domain.links import COUPON, CodeRef, partner_hint
from ..domain.orders import OrderCommand, RecordedOrder, RefundCommand
from ..domain.partners import Partner
from ..domain.periods import Calendar
from ..domain.plans import Plan, plan_in_force, renewal_pays
from ..domain.standing import Chain, TreeRules
from ..store.orders import Hold, OrderContext, OrderRecord
from ..store.uow import TransactOp, UnitOfWork
from . import member_orders as member_hooks
from .partners import chain_for

ATTEMPTS = 5
ATTRIBUTED, UNATTRIBUTED, SELF_REFERRAL, HELD = "attributed", "unattributed", "self_referral", "held"
RENEWAL_LIMIT = "renewal_limit"  # a subscription renewal past the plan's renewal_months


@dataclass(frozen=True)
class Outcome:
    result: dict[str, Any]
    created: bool


def _replay(recorded_fingerprint: str, fingerprint: str, result: dict[str, Any], what: str) -> Outcome:
    if recorded_fingerprint != fingerprint:
        raise Conflict(f"this {what} id was already used with a different body", code="idempotency_conflict")
    return Outcome(result, created=False)


def attribute_order(
    uow: UnitOfWork,
    cmd: OrderCommand,
    rules: attr.AttributionRules,
    now: datetime,
    cal: Calendar = Calendar(),
    fraud_rules: FraudRules | None = None,
    *,
    tree: TreeRules = TreeRules(),
    also: Sequence[TransactOp] = (),
) -> Outcome:
    """At most two batch reads and one transaction. The first read brings what the body names
    (and the partner a click id or a known code names, with its figures); the second the partner's
    chain, by the hints, from the process's recent reads where they are fresh enough. A move not yet
    reflected in the hints, or a chain past the stored depth, costs a further read — never a condition.
    `also`: the caller's own writes about this order (a shop integration's payment link), committed
    in the order's transaction, so they exist exactly when the order does (a replay writes none)."""
    _check_not_future(cmd.ordered_at, now, "ordered_at")
    known = uow.links.cached(cmd.coupon_code) or uow.links.cached(cmd.referral_code)
    hint = partner_hint(cmd.click_id) or (known.partner_id if known else None)
    buyer = uow.members.for_order(cmd.customer_hash, cmd.coupon_code)
    for _ in range(ATTEMPTS):
        ctx = uow.orders.context(
            cmd.order_id,
            cmd.click_id,
            cmd.referral_code,
            cmd.customer_hash,
            cmd.identity_hashes,
            partner_hint=hint,
            also=buyer,
            coupon=cmd.coupon_code,
        )
        if ctx.order is not None:
            return _replay(ctx.order.fingerprint, cmd.fingerprint, ctx.order.result, "order")
        plan = plan_in_force(ctx.plans, cmd.ordered_at)
        codes = _codes(ctx)
        found = attr.attribute(
            cmd.ordered_at,
            ctx.click,
            codes.referral.partner_id if codes.referral else None,
            ctx.binding,
            rules,
            codes.coupon.partner_id if codes.coupon else None,
        )
        partner, chain, figures = _chain(uow, ctx, found, plan, now, tree, codes)
        period = cal.landing_period(cmd.ordered_at, now)
        # A coupon code that names a partner's code is not a member's coupon (their prefixes differ).
        effects = member_hooks.order_effects(
            ctx.also, replace(cmd, coupon_code=None) if ctx.coupon else cmd, now, uow.members
        )
        decision = _decide(cmd, plan, found, partner, chain, figures, now, cal, period, ctx, fraud_rules)
        try:
            _commit_order(uow, cmd, plan, decision, now, effects, also)
            return Outcome(decision.result, created=True)
        except AlreadyExists:
            continue  # a concurrent duplicate won: the next read replays its result
        except ConcurrentUpdate:
            continue  # a concurrent first order bound the customer, or the buyer's items moved: decide again
    raise Conflict("the order could not be recorded because of concurrent changes; retry", code="busy")


@dataclass(frozen=True)
class Codes:
    """What the order's codes name, by kind (one namespace: store/keys.code): a partner's coupon code
    (in either field: Stripe's one `upline_ref` carries either kind), and a referral or link code."""

    coupon: CodeRef | None
    referral: CodeRef | None


def _codes(ctx: OrderContext[Any]) -> Codes:
    named = [c for c in (ctx.coupon, ctx.code) if c is not None]
    return Codes(
        next((c for c in named if c.kind == COUPON), None), next((c for c in reversed(named) if c.kind != COUPON), None)
    )


def _chain(
    uow: UnitOfWork,
    ctx: OrderContext[Any],
    found: attr.Attribution | None,
    plan: Plan,
    now: datetime,
    tree: TreeRules,
    codes: Codes,
) -> tuple[Partner | None, Chain | None, dict[str, int]]:
    """The attributed partner, its chain at `now` and its running figures."""
    if found is None:
        return None, None, {}
    pid = found.partner_id
    partner: Partner | None
    if ctx.partner is not None and ctx.partner.partner_id == pid:
        uow.partners.remember(ctx.partner, now)
        partner, figures = ctx.partner, (ctx.partner_figures.figures if ctx.partner_figures else {})
        known = uow.partners.recent(partner.upline_ids, now, tree.cache_age)
    else:
        hint = (
            codes.referral.upline_hint
            if found.source == attr.REFERRAL_CODE and codes.referral
            else codes.coupon.upline_hint
            if found.source == attr.COUPON and codes.coupon
            else ctx.binding.upline_hint
            if found.source == attr.BINDING and ctx.binding
            else ()
        )
        known, stats = uow.partners.recent_with((pid, *hint), now, tree.cache_age, uow.stats.of(pid))
        partner, figures = known.get(pid), stats.figures
    if partner is None:
        return None, None, {}
    return partner, chain_for(uow, partner, now, plan.depth, tree, known), figures


@dataclass
class Decision:
    """What an order means, before anything is written."""

    result: dict[str, Any]
    entries: list[Entry]
    partner: Partner | None
    found: attr.Attribution | None
    hold: Hold | None
    counted: str | None  # the partner whose volume the order counts toward


def _decide(
    cmd: OrderCommand,
    plan: Plan,
    found: attr.Attribution | None,
    partner: Partner | None,
    chain: Chain | None,
    figures: dict[str, int],
    now: datetime,
    cal: Calendar,
    period: str,
    ctx: OrderContext[Any],
    fraud_rules: FraudRules | None,
) -> Decision:
    result: dict[str, Any] = {
        "order_id": cmd.order_id,
        "amount_minor": cmd.amount_minor,
        "currency": cmd.currency,
        "plan_version": plan.version,
        "period": period,
        "attribution": None,
        "commissions": [],
    }
    entries: list[Entry] = []
    if found is None or partner is None or chain is None:
        result.update(status=UNATTRIBUTED, reason="no click, coupon code, referral code or binding led to a partner")
    else:
        result["attribution"] = {"partner_id": partner.partner_id, "source": found.source, "click_id": found.click_id}
        coupon = _codes(ctx).coupon if found.source == attr.COUPON else None
        if coupon is not None:
            result["attribution"]["coupon_code"] = coupon.code
        if partner.customer_hash and partner.customer_hash == cmd.customer_hash:
            result.update(
                status=SELF_REFERRAL, reason="the buyer is the referring partner; self-referrals earn no commission"
            )
            found = replace(found, new_binding=None)
        elif cmd.renewal is not None and not renewal_pays(plan, cmd.renewal.started_at, cmd.renewal.period_start):
            result.update(
                status=RENEWAL_LIMIT,
                reason=f"renewals of subscription {cmd.renewal.subscription_id} earn commissions for "
                f"{plan.renewal_months} months from {cmd.renewal.started_at.date().isoformat()} "
                f"(plan version {plan.version})",
            )
        else:
            lines = compute_commissions(cmd.amount_minor, chain.nodes[0], chain.nodes[1:], plan)
            entries = commission_entries(
                cmd.order_id, cmd.currency, cmd.ordered_at, plan.version, plan.holding_days, lines, cal, period
            )
            result.update(
                status=ATTRIBUTED,
                reason=None,
                commissions=[
                    {
                        "entry_id": e.entry_id,
                        "partner_id": e.partner_id,
                        "level": e.level,
                        "rate_bps": e.rate_bps,
                        "amount_minor": e.amount_minor,
                    }
                    for e in entries
                ],
            )
    hold = None
    if result["status"] == ATTRIBUTED and entries and fraud_rules is not None:
        assert partner is not None and found is not None and chain is not None
        reasons = fraud.assess(
            fraud_rules,
            buyer_is_partner=ctx.buyer_partners,
            # The commission chain stops at the plan's depth; a ring is anyone above the partner, so
            # the stored upline (its hint, to the tree's depth) counts as well.
            chain=[*(n.partner_id for n in chain.nodes), *partner.upline_ids],
            clicked_at=ctx.click.clicked_at if ctx.click and found.source == attr.CLICK else None,
            ordered_at=cmd.ordered_at,
            counters=figures,
            currency=cmd.currency,
        )
        if reasons:
            # Held: the entries are written (append-only, visible) but settle in no period until an
            # admin releases them (services/holds.py writes the entries that do settle).
            entries = [replace(e, settles_in=HOLD) for e in entries]
            result.update(status=HELD, reason="held for review: " + ", ".join(reasons), hold=reasons)
            hold = Hold(cmd.order_id, partner.partner_id, tuple(reasons), now, cmd.currency, cmd.amount_minor)
    # A held order counts towards no one's volume (bonuses) until it is released (services/holds.py).
    counted = partner.partner_id if partner is not None and result["status"] == ATTRIBUTED else None
    if found is not None and partner is not None and found.new_binding is not None:
        found = replace(found, new_binding=replace(found.new_binding, upline_hint=partner.upline_ids))
    return Decision(result, entries, partner, found, hold, counted)


def _commit_order(
    uow: UnitOfWork,
    cmd: OrderCommand,
    plan: Plan,
    d: Decision,
    now: datetime,
    effects: member_hooks.OrderEffects,
    also: Sequence[TransactOp] = (),
) -> None:
    """The order (the claim), its entries, the partner's sale posting, the customer's binding, a
    fraud hold if any and the buyer's member writes: one transaction of the order's own items."""
    if effects.result is not None:
        d.result["member"] = effects.result
    if effects.coupon is not None:
        d.result["coupon"] = effects.coupon
    period = d.result["period"]
    uow.claim(
        uow.orders.new(
            OrderRecord(
                cmd.order_id,
                cmd.fingerprint,
                cmd.amount_minor,
                cmd.currency,
                cmd.ordered_at,
                cmd.customer_hash,
                plan,
                tuple(d.entries),
                d.result,
                now,
                period,
                d.counted,
            )
        )
    )
    if d.counted is not None:
        uow.add(
            uow.ledger.sale(
                d.counted, cmd.order_id, "O", cmd.ordered_at, period, cmd.currency, cmd.amount_minor, counts_order=True
            )
        )
    bound = d.found.new_binding if d.found and d.partner and d.result["status"] in (ATTRIBUTED, HELD) else None
    if bound is not None:
        uow.add(uow.orders.bind(cmd.customer_hash, bound, cmd.order_id, cmd.ordered_at))
    uow.add(*(uow.ledger.new(e) for e in d.entries))
    if d.hold is not None:
        uow.add(uow.orders.hold(d.hold))
    uow.add(*effects.writes)  # the buyer's member writes, in the same transaction
    uow.add(*also)
    uow.commit()


def refund_order(uow: UnitOfWork, cmd: RefundCommand, now: datetime, cal: Calendar = Calendar()) -> Outcome:
    """Reverse, at every level, the share of each commission the refund takes back. One batch read,
    one transaction. The reversals land in the order's period while it is open, else in the current
    one: a clawback, paid back out of the partner's next settlement."""
    _check_not_future(cmd.refunded_at, now, "refunded_at")
    for _ in range(ATTEMPTS):
        order, refund = uow.orders.refund_context(cmd.order_id, cmd.refund_id)
        if refund is not None:
            return _replay(refund.fingerprint, cmd.fingerprint, refund.result, "refund")
        if order is None:
            raise NotFound(f"no order {cmd.order_id}", code="unknown_order")
        if order.dispute_open:  # the dispute's outcome decides (services/disputes.py)
            raise Conflict(f"the order's payment is under dispute ({order.dispute_open})", code="order_disputed")
        _check_refund(order, cmd)
        amounts = reversal_amounts(
            [e.amount_minor for e in order.entries], order.amount_minor, order.refunded_minor, cmd.amount_minor
        )
        # The order's own period while it is open (refunds reduce its volume), else the current one.
        period = cal.landing_period(order.ordered_at, now)
        reversals = [
            reversal_entry(e, cmd.refund_id, a, cmd.refunded_at, cal, period)
            for e, a in zip(order.entries, amounts, strict=True)
            if a > 0
        ]
        result = {
            "order_id": cmd.order_id,
            "refund_id": cmd.refund_id,
            "amount_minor": cmd.amount_minor,
            "period": period,
            "currency": cmd.currency,
            "refunded_total_minor": order.refunded_minor + cmd.amount_minor,
            "reversals": [
                {
                    "entry_id": r.entry_id,
                    "reverses": r.reverses,
                    "partner_id": r.partner_id,
                    "level": r.level,
                    "amount_minor": r.amount_minor,
                }
                for r in reversals
            ],
        }
        uow.claim(uow.orders.new_refund(order.order_id, cmd.refund_id, cmd.fingerprint, cmd.amount_minor, result, now))
        # The refunded total moves only from the value read: racing refunds cannot over-reverse.
        uow.add(uow.orders.refunded(order, cmd.amount_minor))
        if order.attributed_to:
            uow.add(
                uow.ledger.sale(
                    order.attributed_to,
                    order.order_id,
                    f"R#{cmd.refund_id}",
                    cmd.refunded_at,
                    period,
                    order.currency,
                    -cmd.amount_minor,
                    counts_order=False,
                )
            )
        uow.add(*(uow.ledger.new(e) for e in reversals))
        uow.add(*member_hooks.refund_writes(order, cmd, uow.members))
        try:
            uow.commit()
            return Outcome(result, created=True)
        except AlreadyExists:
            continue  # a duplicate won the race: re-read and replay it
        except ConcurrentUpdate:
            continue  # another refund of this order moved its refunded total: re-read
    raise Conflict("the refund could not be recorded because of concurrent refunds; retry", code="busy")


def _check_not_future(at: datetime, now: datetime, what: str) -> None:
    """The shop reports what happened, not what will: a time past our clock (beyond its skew) would
    put entries in a future period, out of every settlement's reach until then."""
    if at > now + CLOCK_SKEW:
        raise Unprocessable(f"{what} is in the future", code="time_in_future")


def _check_refund(order: RecordedOrder, cmd: RefundCommand) -> None:
    if cmd.refunded_at < order.ordered_at - CLOCK_SKEW:
        raise Unprocessable("a refund cannot come before its order", code="refund_before_order")
    if cmd.currency != order.currency:
        raise Unprocessable(f"the order was in {order.currency}", code="currency_mismatch")
    remaining = order.amount_minor - order.refunded_minor
    if cmd.amount_minor > remaining:
        raise Unprocessable(f"only {remaining} minor units of this order remain to refund", code="refund_exceeds_order")
