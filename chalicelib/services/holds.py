"""Fraud review: release a held order's commissions (they then settle like any other), or reject them."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ..domain.commissions import reversal_amounts
from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict
from ..domain.ledger import HOLD, Entry
from ..domain.periods import Calendar
from ..store.security import SecurityStore


def release_entries(order: Any, cal: Calendar, actor: str, now: datetime) -> list[Entry]:
    """One new commission entry per held one, for what is left of it after refunds so far, landing
    now and payable once the original's holding period has passed. The held entries stay as they
    were (append-only) and settle nowhere; a refund after the release reverses the originals and,
    since the order now settles normally, claws back from the partner's next settlement."""
    already = reversal_amounts([e.amount_minor for e in order.entries], order.amount_minor, 0, order.refunded_minor)
    period = cal.period_of(now)
    out = []
    for e, gone in zip(order.entries, already):
        left = e.amount_minor - gone
        if left <= 0:
            continue
        payable_at = max(e.payable_at, now)
        out.append(replace(e, entry_id=f"{e.entry_id}#REL", amount_minor=left, occurred_at=now,
                           payable_at=payable_at, period=period, settles_in=cal.settles_in(period, payable_at),
                           trace={"releases": e.entry_id, "released_by": actor}))
    return out


def release(store: SecurityStore, order_id: str, cal: Calendar, actor: str, now: datetime,
            audit: dict[str, Any]) -> dict[str, Any]:
    """Two attempts at most: a refund racing the release moves `refunded_minor`, so re-read."""
    for _ in range(3):
        item, order = store.held_order(order_id)
        if item.get("settles_in") != HOLD or item.get("rejected_at"):
            raise Conflict(f"order {order_id} is not held (released or rejected)", code="not_held")
        entries = release_entries(order, cal, actor, now)
        hold = store.hold(order_id)
        period = cal.period_of(now)
        try:
            store.release(item, hold, entries, period, entries[0].settles_in if entries else period, actor, now,
                          audit)
        except (AlreadyExists, ConcurrentUpdate):
            continue
        return {"order_id": order_id, "status": "released", "released_by": actor,
                "entries": [{"entry_id": e.entry_id, "partner_id": e.partner_id, "amount_minor": e.amount_minor,
                             "settles_in": e.settles_in, "releases": e.trace["releases"]} for e in entries]}
    raise Conflict("the order changed while releasing it; retry", code="busy")


def reject(store: SecurityStore, order_id: str, actor: str, now: datetime, audit: dict[str, Any]) -> dict[str, Any]:
    """The held entries stay held for good: no settlement ever pays them. Nothing else is written."""
    item, _ = store.held_order(order_id)
    if item.get("settles_in") != HOLD or item.get("rejected_at"):
        raise Conflict(f"order {order_id} is not held", code="not_held")
    if not store.reject(order_id, actor, now, audit):
        raise Conflict(f"order {order_id} was already reviewed", code="not_held")
    return {"order_id": order_id, "status": "rejected", "rejected_by": actor}
