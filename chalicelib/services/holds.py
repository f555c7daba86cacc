"""Fraud review: release a held order's commissions (they then settle like any other), or reject them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.commissions import reversal_amounts
from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict, NotFound
from ..domain.ledger import HOLD, Entry, release_entry
from ..domain.orders import RecordedOrder
from ..domain.periods import Calendar
from ..store.uow import TransactOp, UnitOfWork


def release_entries(order: Any, cal: Calendar, actor: str, now: datetime) -> list[Entry]:
    """One new commission entry per held one, for what is left of it after refunds so far, landing
    now and payable once the original's holding period has passed. The held entries stay as they
    were (append-only) and settle nowhere; a refund after the release reverses the originals and,
    since the order now settles normally, claws back from the partner's next settlement."""
    already = reversal_amounts([e.amount_minor for e in order.entries], order.amount_minor, 0, order.refunded_minor)
    return [
        release_entry(e, e.amount_minor - gone, now, cal, {"releases": e.entry_id, "released_by": actor})
        for e, gone in zip(order.entries, already, strict=True)
        if e.amount_minor - gone > 0
    ]


def _held(uow: UnitOfWork, order_id: str) -> RecordedOrder:
    order = uow.orders.get(order_id)
    if order is None:
        raise NotFound(f"no order {order_id}", code="unknown_order")
    if order.settles_in != HOLD or order.rejected:
        raise Conflict(f"order {order_id} is not held (released or rejected)", code="not_held")
    return order


def release(
    uow: UnitOfWork,
    order_id: str,
    cal: Calendar,
    actor: str,
    now: datetime,
    audit: TransactOp,
    reason: str | None = None,
) -> dict[str, Any]:
    """The release entries (new, append-only), the order settling normally from now on (so later
    refunds claw back), its remaining sales posted to the partner's volume in the release period, the
    hold marked released and the audit record: one transaction, conditional on the order still being
    held with the refunded total read (a refund racing the release makes it read again)."""
    for _ in range(3):
        order = _held(uow, order_id)
        hold = uow.review.hold(order_id) or {}
        entries = release_entries(order, cal, actor, now)
        period = cal.period_of(now)
        partner_id = hold.get("partner_id") or (order.entries[0].partner_id if order.entries else "")
        uow.add(
            *uow.review.release(
                order_id,
                order.refunded_minor,
                entries[0].settles_in if entries else period,
                partner_id,
                actor,
                now,
                reason,
            ),
            *(uow.ledger.new(e) for e in entries),
            audit,
        )
        left = order.amount_minor - order.refunded_minor
        if left > 0:  # what is left after refunds so far counts towards the partner's volume from now on
            uow.add(uow.ledger.sale(partner_id, order_id, "L", now, period, order.currency, left, counts_order=True))
        try:
            uow.commit()
        except (AlreadyExists, ConcurrentUpdate):
            continue
        return {
            "order_id": order_id,
            "status": "released",
            "released_by": actor,
            "review_reason": reason,
            "entries": [
                {
                    "entry_id": e.entry_id,
                    "partner_id": e.partner_id,
                    "amount_minor": e.amount_minor,
                    "settles_in": e.settles_in,
                    "releases": (e.trace or {})["releases"],
                }
                for e in entries
            ],
        }
    raise Conflict("the order changed while releasing it; retry", code="busy")


def reject(uow: UnitOfWork, order_id: str, actor: str, now: datetime, audit: TransactOp, reason: str) -> dict[str, Any]:
    """The held entries stay held for good: no settlement ever pays them. Nothing else is written
    but the hold's status and the reviewer's reason."""
    _held(uow, order_id)
    uow.add(*uow.review.reject(order_id, actor, now, reason), audit)
    try:
        uow.commit()
    except (AlreadyExists, ConcurrentUpdate):
        raise Conflict(f"order {order_id} was already reviewed", code="not_held") from None
    return {"order_id": order_id, "status": "rejected", "rejected_by": actor, "review_reason": reason}
