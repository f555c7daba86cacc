"""A small demo program: a plan, a partner tree, links and a few orders. Running it again
changes nothing (every id is fixed, every write idempotent)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from chalicelib.config import Settings
from chalicelib.domain.attribution import AttributionRules
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


def seed(repo: Repository, s: Settings) -> list[str]:
    now = datetime.now(timezone.utc)
    out = []
    if not repo.plans():
        plans.publish(repo, levels_bps=[1000, 500, 200], cap_bps=2000, rank_overrides={}, holding_days=30,
                      effective_from=datetime(2020, 1, 1, tzinfo=timezone.utc), created_by="demo",
                      max_depth=s.max_depth, now=now)
        out.append("plan v1: L1 10%, L2 5%, L3 2%, cap 20%")
    for code, name, sponsor in TREE:
        p, created = partners.enrol(repo, name=name, code=code, sponsor_code=sponsor, customer_hash=None,
                                    fingerprint=_fp(code, name, sponsor), max_depth=s.max_depth, now=now)
        out.append(f"partner {p.partner_id} ({name}) under {sponsor or '-'}{'' if created else ' (already there)'}")
    for owner, code, dest in LINKS:
        links.create_link(repo, f"P-{owner}", dest, code, frozenset(s.allowed_domains), now)
        out.append(f"link /r/{code} -> {dest}")
    ordered_at = now - timedelta(days=1)
    for order_id, customer, amount, code in ORDERS:
        cmd = OrderCommand(order_id, keyed_hash(s.hash_pepper, customer), amount, "USD", ordered_at,
                           _fp(order_id, customer, amount, code), referral_code=code)
        result = orders.attribute_order(repo, cmd, AttributionRules(s.attribution_window), now, s.calendar).result
        credited = ", ".join(f"{c['partner_id']} {c['amount_minor']}" for c in result["commissions"]) or "none"
        out.append(f"order {order_id} {amount} USD minor via {code or 'nothing'}: {result['status']}; {credited}")
    refund = RefundCommand("demo-1001", "demo-r1", 3000, "USD", ordered_at + timedelta(hours=2),
                           _fp("demo-1001", "demo-r1"))
    orders.refund_order(repo, refund, now, s.calendar)
    out.append("refund demo-r1: 3000 USD minor of demo-1001")
    return out
