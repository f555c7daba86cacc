"""Partners' coupon codes: made by an admin for any partner, or by a partner for itself within a
limit; and the leak watch, which flags a code used by many distinct customers in one window.

The watch reads new orders from the table's stream (jobs.project_figures in AWS, the stream follower
of `make run`, the tests' drain), so no order's transaction touches an item that every order with a
viral code would share. Redelivered records add no customer twice (a set), and a code is flagged once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..domain.coupons import CouponLimits, LeakRule, check_coupon_code
from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict, NotFound
from ..domain.links import COUPON, CodeRef
from ..store.coupons import USE_KEEP, CouponFlag, CouponUse, coupon_uses
from ..store.items import iso
from ..store.uow import TransactOp, UnitOfWork


def create(
    uow: UnitOfWork,
    partner_id: str,
    code: str,
    actor: str,
    now: datetime,
    limits: CouponLimits | None,
    audit: TransactOp | None = None,
) -> tuple[CodeRef, bool]:
    """A coupon code for the partner, and whether this call made it. `limits` None: made by an admin
    (no limit); else the partner makes its own, counted against `limits.per_partner` in the code's
    transaction (a refused or repeated code counts nothing). The code is the claim: a retry of the
    same request returns the code made before (False). `audit` commits with the code."""
    partner = uow.partners.get(partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}", code="unknown_partner")
    ref = CodeRef(check_coupon_code(code), COUPON, partner_id, None, partner.upline_ids)
    uow.claim(uow.coupons.new(ref, actor, now))
    if limits is not None:
        uow.add(uow.coupons.counted(partner_id, limits.per_partner))
    if audit is not None:
        uow.add(audit)
    try:
        uow.commit()
    except AlreadyExists:
        existing = uow.links.resolve(ref.code)
        if existing is not None and existing.kind == COUPON and existing.partner_id == partner_id:
            return existing, False  # a retry of the same request
        raise Conflict(f"the code {ref.code} is already in use", code="code_taken") from None
    except ConcurrentUpdate:
        raise (limits.refusal(uow.coupons.count_of(partner_id)) if limits else None) or Conflict(
            "the code could not be created just now; try again", code="try_again"
        ) from None
    uow.links.remember(ref)
    return ref, True


def listing(uow: UnitOfWork, partner_id: str) -> list[dict[str, Any]]:
    return [
        {"code": c.code, "partner_id": c.partner_id, "created_at": c.created_at, "created_by": c.created_by}
        for c in uow.coupons.of_partner(partner_id)
    ]


def watch(uow: UnitOfWork, records: Iterable[dict[str, Any]], rule: LeakRule, now: datetime) -> list[str]:
    """Count the coupon uses in a batch of stream records; flag the codes that reach the rule's
    number of distinct customers in one window. Returns the codes flagged by this batch."""
    by_window: dict[tuple[str, datetime], list[CouponUse]] = defaultdict(list)
    for u in coupon_uses(records):
        by_window[(u.code, rule.window_of(u.ordered_at))].append(u)
    flagged = []
    for (code, start), batch in by_window.items():
        window = iso(start)
        if not uow.write(
            uow.coupons.used(code, window, {u.customer_hash for u in batch}, start + rule.window + USE_KEEP)
        ):
            continue  # flagged already: the set no longer grows
        customers = uow.coupons.customers_in(code, window)
        if not rule.leaked(customers):
            continue
        uow.add(*uow.coupons.flag(code, batch[0].partner_id, window, customers, now))
        try:
            uow.commit()
        except ConcurrentUpdate:  # flagged in an earlier window, or by a concurrent batch
            uow.write(uow.coupons.stop_counting(code, window, now))
            continue
        flagged.append(code)
    return flagged


def flags(uow: UnitOfWork) -> list[CouponFlag]:
    return uow.coupons.flagged()
