"""Attribute an order and credit its commissions; refund it and reverse them."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..domain import attribution as attr
from ..domain.attribution import CLOCK_SKEW
from ..domain.commissions import compute_commissions, reversal_amounts
from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict, NotFound, Unprocessable
from ..domain.ledger import commission_entries, reversal_entry
from ..domain.links import partner_hint
from ..domain.orders import OrderCommand, RecordedOrder, RefundCommand
from ..domain.partners import Partner
from ..domain.periods import OPEN, Calendar, next_period
from ..domain.plans import plan_in_force
from ..domain import fraud
from ..domain.fraud import FraudRules
from ..domain.tree import Node
from ..store.keys import HOLD_MARKER
from ..store.members import MemberRepo
from ..store.repository import OrderContext, Repository
from . import member_orders as member_hooks
from . import partners as partner_svc

ATTEMPTS = 5
ATTRIBUTED, UNATTRIBUTED, SELF_REFERRAL, HELD = "attributed", "unattributed", "self_referral", "held"


@dataclass(frozen=True)
class Outcome:
    result: dict[str, Any]
    created: bool


def _replay(recorded_fingerprint: str, fingerprint: str, result: dict[str, Any], what: str) -> Outcome:
    if recorded_fingerprint != fingerprint:
        raise Conflict(f"this {what} id was already used with a different body", code="idempotency_conflict")
    return Outcome(result, created=False)


def _landing(cal: Calendar, at: datetime, now: datetime, closed: set[str]) -> str:
    period = cal.landing_period(at, now)
    while period in closed:
        period = next_period(period)
    return period


def _note_if_closed(repo: Repository, period: str, closed: set[str]) -> None:
    """After a failed transaction: was it because settlement started closing the period?"""
    if repo.period_status(period) != OPEN:
        closed.add(period)


def attribute_order(repo: Repository, cmd: OrderCommand, rules: attr.AttributionRules, now: datetime,
                    cal: Calendar = Calendar(), fraud_rules: FraudRules | None = None, *,
                    max_depth: int) -> Outcome:
    """Two batch reads (what the body names; then the partner with its upline snapshot) and one
    transaction. When the click id or an already resolved referral code names the partner, the
    partner comes with the first read and the second is skipped. If the snapshot was stale the
    transaction fails and the upline is read live. `max_depth` is the length snapshots are stored
    at: one that long may have more ancestors above it, read only if compression needs them."""
    _check_not_future(cmd.ordered_at, now, "ordered_at")
    live_upline = False
    closed: set[str] = set()
    known_code = repo.cached_code(cmd.referral_code)
    hint = partner_hint(cmd.click_id) or (known_code.partner_id if known_code else None)
    members = MemberRepo(repo.table)  # until orders move to the unit of work (uow.members)
    buyer_reads = members.for_order(cmd.customer_hash, cmd.coupon_code)
    for _ in range(ATTEMPTS):
        ctx = repo.order_context(cmd.order_id, cmd.click_id, cmd.referral_code, cmd.customer_hash,
                                 cmd.identity_hashes, partner_hint=hint, extra_keys=buyer_reads.keys)
        if ctx.order is not None:
            return _replay(ctx.order.fingerprint, cmd.fingerprint, ctx.order.result, "order")
        plan = plan_in_force(ctx.plans, cmd.ordered_at)
        code_partner = ctx.code.partner_id if ctx.code else None
        found = attr.attribute(cmd.ordered_at, ctx.click, code_partner, ctx.binding, rules)
        if found is None:
            partner = None
        elif ctx.partner is not None and ctx.partner.partner_id == found.partner_id:
            partner = ctx.partner  # named in advance and read with everything else
        else:
            partner = repo.get_partner(found.partner_id)
        if partner is not None and live_upline:
            partner = _with_live_upline(repo, partner)
        upline = partner_svc.upline_for_levels(repo, partner, plan.depth, max_depth, live_upline) \
            if partner is not None else None
        period = _landing(cal, cmd.ordered_at, now, closed)
        try:
            effects = member_hooks.order_effects(buyer_reads.of(ctx.extra), cmd, now, members)
            return _decide_and_commit(repo, cmd, plan, found, partner, now, cal, period, ctx, fraud_rules,
                                      effects, upline)
        except AlreadyExists:
            continue  # a concurrent duplicate won: the next read replays its result
        except ConcurrentUpdate:
            live_upline = True
            _note_if_closed(repo, period, closed)
    raise Conflict("the order could not be recorded because of concurrent changes; retry", code="busy")


def _with_live_upline(repo: Repository, partner: Partner) -> Partner:
    live = repo.get_partners([partner.partner_id, *(n.partner_id for n in partner.upline)])
    fresh = live.get(partner.partner_id, partner)
    upline = tuple(live[n.partner_id].node if n.partner_id in live else n for n in fresh.upline)
    return replace(fresh, upline=upline)


def _decide_and_commit(repo: Repository, cmd: OrderCommand, plan, found: attr.Attribution | None,
                       partner: Partner | None, now: datetime, cal: Calendar, period: str,
                       ctx: OrderContext | None = None, fraud_rules: FraudRules | None = None,
                       effects: member_hooks.OrderEffects | None = None,
                       upline: partner_svc.Upline | None = None) -> Outcome:
    result: dict[str, Any] = {
        "order_id": cmd.order_id, "amount_minor": cmd.amount_minor, "currency": cmd.currency,
        "plan_version": plan.version, "period": period, "attribution": None, "commissions": [],
    }
    entries = []
    checked: list[Node] = []
    if partner is not None and upline is None:
        upline = partner_svc.Upline(partner.upline)
    chain = [partner.node, *upline.nodes] if partner is not None and upline is not None else []
    updates: dict[str, dict[str, int]] = defaultdict(dict)
    if found is None or partner is None:
        result.update(status=UNATTRIBUTED, reason="no click, referral code or binding led to a partner")
    else:
        result["attribution"] = {"partner_id": partner.partner_id, "source": found.source,
                                 "click_id": found.click_id}
        if partner.customer_hash and partner.customer_hash == cmd.customer_hash:
            result.update(status=SELF_REFERRAL,
                          reason="the buyer is the referring partner; self-referrals earn no commission")
            found = replace(found, new_binding=None)
        else:
            lines = compute_commissions(cmd.amount_minor, partner.node, upline.nodes, plan)
            entries = commission_entries(cmd.order_id, cmd.currency, cmd.ordered_at, plan.version,
                                         plan.holding_days, lines, cal, period)
            result.update(status=ATTRIBUTED, reason=None, commissions=[
                {"entry_id": e.entry_id, "partner_id": e.partner_id, "level": e.level, "rate_bps": e.rate_bps,
                 "amount_minor": e.amount_minor} for e in entries])
            checked = _nodes_that_decided(chain, lines[-1].partner_id if lines else None, plan.depth)
            for e in entries:
                updates[e.partner_id][f"credited_{cmd.currency}"] = e.amount_minor
            updates[partner.partner_id].update({"attributed_orders": 1, f"sales_{cmd.currency}": cmd.amount_minor})
    hold = None
    if result["status"] == ATTRIBUTED and entries and fraud_rules is not None and ctx is not None:
        reasons = fraud.assess(
            fraud_rules, buyer_is_partner=ctx.buyer_partners,
            chain=[n.partner_id for n in chain],
            clicked_at=ctx.click.clicked_at if ctx.click and found.source == attr.CLICK else None,
            ordered_at=cmd.ordered_at, counters=partner.counters, currency=cmd.currency)
        if reasons:
            # Held: the entries are written (append-only, visible) but settle in no period until an
            # admin releases them (services/holds.py writes the entries that do settle).
            entries = [replace(e, settles_in=HOLD_MARKER) for e in entries]
            result.update(status=HELD, reason="held for review: " + ", ".join(reasons), hold=reasons)
            hold = {"order_id": cmd.order_id, "partner_id": partner.partner_id, "reasons": reasons,
                    "held_at": now.isoformat(), "status": "held", "currency": cmd.currency,
                    "amount_minor": cmd.amount_minor}
    # A held order counts towards no one's volume (bonuses) until it is released (services/holds.py).
    counted = partner.partner_id if partner is not None and result["status"] == ATTRIBUTED else None
    if effects is not None and effects.result is not None:
        result["member"] = effects.result
    if effects is not None and effects.coupon is not None:
        result["coupon"] = effects.coupon
    repo.commit_order(
        order_item=repo.order_item(cmd.order_id, cmd.fingerprint, cmd.amount_minor, cmd.currency, cmd.ordered_at,
                                   cmd.customer_hash, plan, entries, result, now, period, counted),
        entries=entries, customer_hash=cmd.customer_hash,
        new_binding=found.new_binding if found and partner and result["status"] in (ATTRIBUTED, HELD) else None,
        binding_at=cmd.ordered_at, partner_updates=updates, checked=checked, attributed=partner,
        read_through=upline.read_through if upline is not None and checked else {},
        volume=(counted, cmd.amount_minor) if counted else None, hold=hold,
        extra_ops=effects.writes if effects is not None else (),
    )
    return Outcome(result, created=True)


def _nodes_that_decided(chain: list[Node], last_earner: str | None, levels: int) -> list[Node]:
    """The partners whose status or rank shaped this commission: everyone up to the last earner,
    or the whole chain read when it ran out of active partners before the plan's depth."""
    active_seen, out = 0, []
    for node in chain:
        out.append(node)
        active_seen += node.active
        if node.partner_id == last_earner and active_seen >= levels:
            break
    return out


def refund_order(repo: Repository, cmd: RefundCommand, now: datetime, cal: Calendar = Calendar()) -> Outcome:
    """Reverse, at every level, the share of each commission the refund takes back. One batch read,
    one transaction. The reversals land in the order's period while it is open, else in the current
    one: a clawback, paid back out of the partner's next settlement."""
    _check_not_future(cmd.refunded_at, now, "refunded_at")
    closed: set[str] = set()
    for _ in range(ATTEMPTS):
        order, refund = repo.refund_context(cmd.order_id, cmd.refund_id)
        if refund is not None:
            return _replay(refund.fingerprint, cmd.fingerprint, refund.result, "refund")
        if order is None:
            raise NotFound(f"no order {cmd.order_id}", code="unknown_order")
        _check_refund(order, cmd)
        amounts = reversal_amounts([e.amount_minor for e in order.entries], order.amount_minor,
                                   order.refunded_minor, cmd.amount_minor)
        # The order's own period while it is open (refunds reduce its volume), else the current one.
        period = _landing(cal, order.ordered_at, now, closed)
        reversals = [reversal_entry(e, cmd.refund_id, a, cmd.refunded_at, cal, period)
                     for e, a in zip(order.entries, amounts) if a > 0]
        result = {
            "order_id": cmd.order_id, "refund_id": cmd.refund_id, "amount_minor": cmd.amount_minor, "period": period,
            "currency": cmd.currency, "refunded_total_minor": order.refunded_minor + cmd.amount_minor,
            "reversals": [{"entry_id": r.entry_id, "reverses": r.reverses, "partner_id": r.partner_id,
                           "level": r.level, "amount_minor": r.amount_minor} for r in reversals],
        }
        try:
            repo.commit_refund(order, cmd.refund_id, cmd.fingerprint, cmd.amount_minor, reversals, result, now,
                               period, extra_ops=member_hooks.refund_writes(order, cmd, MemberRepo(repo.table)))
            return Outcome(result, created=True)
        except AlreadyExists:
            continue  # a duplicate won the race: re-read and replay it
        except ConcurrentUpdate:
            _note_if_closed(repo, period, closed)  # another refund of this order, or the period closed
            continue
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
        raise Unprocessable(f"only {remaining} minor units of this order remain to refund",
                            code="refund_exceeds_order")
