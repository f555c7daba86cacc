"""A small demo program: a plan, a partner tree, links and a few orders, two past periods with sales
to settle and a few orders this period. Running it again changes nothing (every id is fixed, every
write idempotent). Its calendar is the stage's (`UPLINE_PROGRAM_TZ` in .chalice/config.json), the
same the API and the CLI use."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from chalicelib.auth import Principal
from chalicelib.config import Settings
from chalicelib.domain import compliance
from chalicelib.domain.attribution import AttributionRules
from chalicelib.domain.bonuses import BonusRules, Tier
from chalicelib.domain.errors import DomainError
from chalicelib.domain.orders import OrderCommand, RefundCommand
from chalicelib.domain.periods import previous_period
from chalicelib.security import keyed_hash
from chalicelib.services import links, orders, partners, plans
from chalicelib.services.audit import AuditTrail
from chalicelib.store.uow import UnitOfWork

TREE = [
    ("ALICE", "Alice", None),
    ("BOB", "Bob", "ALICE"),
    ("CAROL", "Carol", "BOB"),
    ("DAN", "Dan", "CAROL"),
    ("ERIN", "Erin", "ALICE"),
    ("FRANK", "Frank", "ERIN"),
]
LINKS = [("DAN", "DAN-SHOES", "https://shop.example.com/shoes"), ("ERIN", "ERIN-HOME", "https://shop.example.com/")]
ORDERS = [
    ("demo-1001", "cust-ann", 12000, "DAN-SHOES"),
    ("demo-1002", "cust-ben", 4550, "ERIN-HOME"),
    ("demo-1003", "cust-cat", 25000, "FRANK"),
    ("demo-1004", "cust-dee", 9900, None),
]


def _fp(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


# Two past periods with sales, three and two months back, so that each of docs/settlement.md's settlement
# walks (the CLI's and curl's) has a period of its own to settle, whichever runs first: periods are
# settled in order, so the first walk takes the older one and the second the newer.
PAST_ORDERS = {
    3: [
        ("demo-0701", "cust-ida", 70000, "DAN-SHOES"),
        ("demo-0702", "cust-jon", 120000, "FRANK"),
        ("demo-0703", "cust-kim", 90000, "ERIN-HOME"),
    ],
    2: [
        ("demo-0801", "cust-fay", 60000, "DAN-SHOES"),
        ("demo-0802", "cust-gus", 150000, "FRANK"),
        ("demo-0803", "cust-hal", 80000, "ERIN-HOME"),
    ],
}
LADDER = (Tier(50_000, flat_minor=500), Tier(100_000, flat_minor=3_000))


def past_periods(s: Settings, now: datetime) -> list[str]:
    """The demo's past periods with sales, oldest first, in the program's calendar."""

    def months_back(n: int) -> str:
        p = s.calendar.period_of(now)
        for _ in range(n):
            p = previous_period(p)
        return p

    return [months_back(n) for n in sorted(PAST_ORDERS, reverse=True)]


def seed(uow: UnitOfWork, s: Settings, who: Principal, trail: AuditTrail) -> list[str]:
    now = datetime.now(UTC)
    cal = s.calendar
    periods = past_periods(s, now)
    out = [f"program calendar: months in {s.program_tz}, locked {s.lock_days} days after they end"]
    if not uow.plans.all():
        # Under the `cn` compliance profile a plan pays at most two levels (docs/compliance.md).
        cn = s.compliance_profile == compliance.CN
        plan = plans.publish(
            uow,
            levels_bps=[1000, 500] if cn else [1000, 500, 200],
            cap_bps=2000,
            rank_overrides={},
            holding_days=7,
            effective_from=cal.start(periods[0]),
            created_by=who.subject,
            max_depth=s.max_depth,
            now=now,
            min_payout_minor=5_000,
            bonus=BonusRules(currency="USD", ladder=LADDER, overachievement_bps=500, default_targets={"base": 100_000}),
            profile=s.compliance_profile,
        )
        trail.record(who, "plan.publish", f"plan:{plan.version}", None, {"version": plan.version, "demo": True})
        out.append(
            f"plan v1 from {periods[0]}: L1 10%, L2 5%{'' if cn else ', L3 2%'}, cap 20%, 7 days' holding, "
            "minimum payout 50.00, ladder 500.00 -> 5.00 and 1,000.00 -> 30.00, 5% above a 1,000.00 target"
        )
    for code, name, sponsor in TREE:
        p, created = partners.enrol(
            uow,
            name=name,
            code=code,
            sponsor_code=sponsor,
            customer_hash=None,
            fingerprint=_fp(code, name, sponsor),
            max_depth=s.max_depth,
            now=now,
        )
        if created:
            trail.record(who, "partner.enrol", p.partner_id, None, {"partner_id": p.partner_id, "name": name})
        out.append(f"partner {p.partner_id} ({name}) under {sponsor or '-'}{'' if created else ' (already there)'}")
    for owner, code, dest in LINKS:
        links.create_link(uow, f"P-{owner}", dest, code, frozenset(s.allowed_domains), now, s.link_limits)
        out.append(f"link /r/{code} -> {dest}")
    for back, period in zip(sorted(PAST_ORDERS, reverse=True), periods, strict=True):
        then = cal.start(period) + timedelta(days=4, hours=10)
        for order_id, customer, amount, code in PAST_ORDERS[back]:
            cmd = OrderCommand(
                order_id,
                keyed_hash(s.hash_pepper, customer),
                amount,
                "USD",
                then,
                _fp(order_id, customer, amount, code),
                referral_code=code,
            )
            try:
                result = orders.attribute_order(
                    uow, cmd, AttributionRules(s.attribution_window), then, cal, tree=s.tree_rules
                ).result
            except DomainError as e:  # data from an older demo, whose plan starts later: keep it as it is
                out.append(f"order {order_id} in {period}: not loaded ({e.message}; `rm -rf .data` for a fresh demo)")
                continue
            out.append(f"order {order_id} {amount} USD minor in {period} via {code}: {result['status']}")
    ordered_at = now - timedelta(days=1)
    for order_id, customer, amount, referral in ORDERS:
        cmd = OrderCommand(
            order_id,
            keyed_hash(s.hash_pepper, customer),
            amount,
            "USD",
            ordered_at,
            _fp(order_id, customer, amount, referral),
            referral_code=referral,
        )
        result = orders.attribute_order(
            uow, cmd, AttributionRules(s.attribution_window), now, s.calendar, tree=s.tree_rules
        ).result
        credited = ", ".join(f"{c['partner_id']} {c['amount_minor']}" for c in result["commissions"]) or "none"
        out.append(f"order {order_id} {amount} USD minor via {code or 'nothing'}: {result['status']}; {credited}")
    refund = RefundCommand(
        "demo-1001", "demo-r1", 3000, "USD", ordered_at + timedelta(hours=2), _fp("demo-1001", "demo-r1")
    )
    orders.refund_order(uow, refund, now, s.calendar)
    out.append("refund demo-r1: 3000 USD minor of demo-1001")
    out.append(
        f"past periods to settle: {', '.join(periods)} "
        "(each settlement walk in docs/settlement.md takes the oldest left)"
    )
    return out
