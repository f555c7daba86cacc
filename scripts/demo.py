"""A small demo program: a plan, a partner tree, links and a few orders. Running it again
changes nothing (every id is fixed, every write idempotent)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from chalicelib.config import Settings
from chalicelib.domain.attribution import AttributionRules
from chalicelib.domain.bonuses import BonusRules, Tier
from chalicelib.domain.periods import previous_period
from chalicelib.domain.orders import OrderCommand, RefundCommand
from chalicelib.security import keyed_hash
from chalicelib.services import links, orders, partners, plans
from chalicelib.store.repository import Repository

TREE = [("ALICE", "Alice", None), ("BOB", "Bob", "ALICE"), ("CAROL", "Carol", "BOB"),
        ("DAN", "Dan", "CAROL"), ("ERIN", "Erin", "ALICE"), ("FRANK", "Frank", "ERIN")]
LINKS = [("DAN", "DAN-SHOES", "https://shop.example.com/shoes"),
         ("ERIN", "ERIN-HOME", "https://shop.example.com/")]
ORDERS = [("demo-1001", "cust-ann", 12000, "DAN-SHOES"), ("demo-1002", "cust-ben", 4550, "ERIN-HOME"),
          ("demo-1003", "cust-cat", 25000, "FRANK"), ("demo-1004", "cust-dee", 9900, None)]


def _fp(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


# Sold two months ago, so `python -m scripts.cli settle` has a locked period to settle.
PAST_ORDERS = [("demo-0801", "cust-fay", 60000, "DAN-SHOES"), ("demo-0802", "cust-gus", 150000, "FRANK"),
               ("demo-0803", "cust-hal", 80000, "ERIN-HOME")]
LADDER = (Tier(50_000, flat_minor=500), Tier(100_000, flat_minor=3_000))


def seed(repo: Repository, s: Settings) -> list[str]:
    now = datetime.now(timezone.utc)
    cal = s.calendar
    past = previous_period(previous_period(cal.period_of(now)))
    out = []
    if not repo.plans():
        plans.publish(repo, levels_bps=[1000, 500, 200], cap_bps=2000, rank_overrides={}, holding_days=7,
                      effective_from=cal.start(past), created_by="demo", max_depth=s.max_depth, now=now,
                      min_payout_minor=5_000, bonus=BonusRules(currency="USD", ladder=LADDER,
                                                               overachievement_bps=500,
                                                               default_targets={"base": 100_000}))
        out.append(f"plan v1 from {past}: L1 10%, L2 5%, L3 2%, cap 20%, 7 days' holding, minimum payout 50.00, "
                   "ladder 500.00 -> 5.00 and 1,000.00 -> 30.00, 5% above a 1,000.00 target")
    for code, name, sponsor in TREE:
        p, created = partners.enrol(repo, name=name, code=code, sponsor_code=sponsor, customer_hash=None,
                                    fingerprint=_fp(code, name, sponsor), max_depth=s.max_depth, now=now)
        out.append(f"partner {p.partner_id} ({name}) under {sponsor or '-'}{'' if created else ' (already there)'}")
    for owner, code, dest in LINKS:
        links.create_link(repo, f"P-{owner}", dest, code, frozenset(s.allowed_domains), now, s.link_limits)
        out.append(f"link /r/{code} -> {dest}")
    then = cal.start(past) + timedelta(days=4, hours=10)
    for order_id, customer, amount, code in PAST_ORDERS:
        cmd = OrderCommand(order_id, keyed_hash(s.hash_pepper, customer), amount, "USD", then,
                           _fp(order_id, customer, amount, code), referral_code=code)
        result = orders.attribute_order(repo, cmd, AttributionRules(s.attribution_window), then, cal,
                                        max_depth=s.max_depth).result
        out.append(f"order {order_id} {amount} USD minor in {past} via {code}: {result['status']}")
    ordered_at = now - timedelta(days=1)
    for order_id, customer, amount, code in ORDERS:
        cmd = OrderCommand(order_id, keyed_hash(s.hash_pepper, customer), amount, "USD", ordered_at,
                           _fp(order_id, customer, amount, code), referral_code=code)
        result = orders.attribute_order(repo, cmd, AttributionRules(s.attribution_window), now, s.calendar,
                                        max_depth=s.max_depth).result
        credited = ", ".join(f"{c['partner_id']} {c['amount_minor']}" for c in result["commissions"]) or "none"
        out.append(f"order {order_id} {amount} USD minor via {code or 'nothing'}: {result['status']}; {credited}")
    refund = RefundCommand("demo-1001", "demo-r1", 3000, "USD", ordered_at + timedelta(hours=2),
                           _fp("demo-1001", "demo-r1"))
    orders.refund_order(repo, refund, now, s.calendar)
    out.append("refund demo-r1: 3000 USD minor of demo-1001")
    return out
