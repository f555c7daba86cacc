"""Chargebacks (Stripe's disputes): an opened dispute holds the order's commissions until it closes;
won, they are released; lost, the order is refunded in full and the held commissions are never paid.

Opened: for each commission, what still stands after refunds is reversed (a clawback if it was
already paid) and held in a copy no settlement pays (domain/ledger.dispute_hold_entries); the
dispute record is listed with the held orders for review. Won: the held copies are released by new
entries (dispute_release_entries). Lost: the order's refunded total takes the rest and its volume
drops; the reversals already took the commissions back, so no more are written. Every step is one
transaction with its own claim: the dispute record (opened), its status moving from `disputed`
(closed); a redelivery replays the result recorded with it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..domain.commissions import reversal_amounts
from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict
from ..domain.ledger import COMMISSION, HOLD, Entry, dispute_hold_entries, dispute_release_entries
from ..domain.orders import RecordedOrder
from ..domain.periods import Calendar
from ..store.items import parse_iso
from ..store.uow import UnitOfWork

OPENED, WON, LOST = "opened", "won", "lost"
ATTEMPTS = 5


def _left(order: RecordedOrder) -> list[int]:
    """What of each commission still stands after the order's refunds so far."""
    gone = reversal_amounts([e.amount_minor for e in order.entries], order.amount_minor, 0, order.refunded_minor)
    return [e.amount_minor - g for e, g in zip(order.entries, gone, strict=True)]


def opened(
    uow: UnitOfWork, order_id: str, dispute_id: str, at: datetime, now: datetime, cal: Calendar
) -> tuple[dict[str, Any], bool]:
    """Hold the order's commissions for the dispute: (result, whether this call wrote it)."""
    for _ in range(ATTEMPTS):
        recorded = uow.orders.dispute(order_id, dispute_id)
        if recorded is not None:
            return json.loads(recorded["result"]), False
        order = uow.orders.get(order_id)
        if order is None:
            return {"status": "ignored", "reason": f"no order {order_id} is recorded"}, False
        if order.dispute_open:
            reason = f"order {order_id} is already disputed ({order.dispute_open})"
            return {"status": "ignored", "reason": reason}, False
        # A held order's commissions settle nowhere already; a dispute then holds nothing more.
        held_already = order.settles_in == HOLD
        entries = (
            []
            if held_already
            else dispute_hold_entries(
                order.entries, _left(order), dispute_id, at, cal, cal.landing_period(order.ordered_at, now)
            )
        )
        copies = [e for e in entries if e.settles_in == HOLD]
        partner_id = order.attributed_to or (order.entries[0].partner_id if order.entries else "")
        result = {
            "order_id": order_id,
            "dispute_id": dispute_id,
            "status": "disputed",
            "held": [
                {"entry_id": e.entry_id, "partner_id": e.partner_id, "amount_minor": e.amount_minor} for e in copies
            ],
        }
        record, mark = uow.orders.dispute_opened(order, dispute_id, partner_id, copies, result, now)
        uow.claim(record)
        uow.add(mark, *(uow.ledger.new(e) for e in entries))
        try:
            uow.commit()
            return result, True
        except (AlreadyExists, ConcurrentUpdate):
            continue  # a redelivery won the race, or a refund moved the order: read again
    raise Conflict("the dispute could not be recorded because of concurrent changes; retry", code="busy")


def _held(recorded: dict[str, Any], order: RecordedOrder, dispute_id: str) -> list[Entry]:
    return [
        Entry(
            h["entry_id"],
            COMMISSION,
            h["partner_id"],
            order.order_id,
            int(h["level"]),
            int(h["amount_minor"]),
            order.currency,
            int(h["plan_version"]),
            int(h["rate_bps"]),
            order.ordered_at,
            parse_iso(h["payable_at"]),
            settles_in=HOLD,
            trace={"dispute": dispute_id},
        )
        for h in recorded.get("held") or []
    ]


def closed(
    uow: UnitOfWork, order_id: str, dispute_id: str, status: str, at: datetime, now: datetime, cal: Calendar
) -> tuple[dict[str, Any], bool] | None:
    """Close the dispute: (result, whether this call wrote it), or None when Upline holds nothing for
    it (it never saw the dispute open): the caller then treats a lost dispute as a refund."""
    for _ in range(ATTEMPTS):
        recorded = uow.orders.dispute(order_id, dispute_id)
        order = uow.orders.get(order_id)
        if recorded is None or order is None:
            return None
        if recorded["status"] != "disputed":
            return json.loads(recorded["closed_result"]), False
        left = order.amount_minor - order.refunded_minor
        result: dict[str, Any] = {"order_id": order_id, "dispute_id": dispute_id, "status": status}
        if status == WON:
            releases = dispute_release_entries(_held(recorded, order, dispute_id), dispute_id, now, cal)
            result["released"] = [
                {
                    "entry_id": e.entry_id,
                    "partner_id": e.partner_id,
                    "amount_minor": e.amount_minor,
                    "settles_in": e.settles_in,
                }
                for e in releases
            ]
            uow.add(
                *uow.orders.dispute_closed(order, dispute_id, WON, order.refunded_minor, result, now),
                *(uow.ledger.new(e) for e in releases),
            )
        else:
            # Lost: the customer got the money back. The commissions were taken back when it opened;
            # the order's volume drops by what was left of it.
            result["refunded_minor"] = left
            uow.add(*uow.orders.dispute_closed(order, dispute_id, LOST, order.amount_minor, result, now))
            if order.attributed_to and left > 0:
                uow.add(
                    uow.ledger.sale(
                        order.attributed_to,
                        order_id,
                        f"D#{dispute_id}",
                        at,
                        cal.landing_period(order.ordered_at, now),
                        order.currency,
                        -left,
                        counts_order=False,
                    )
                )
        try:
            uow.commit()
            return result, True
        except (AlreadyExists, ConcurrentUpdate):
            continue
    raise Conflict("the dispute could not be closed because of concurrent changes; retry", code="busy")
