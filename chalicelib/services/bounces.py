"""Bounced payouts: finance reports that a payout came back, and a second finance user confirms it.

A bounce moves money (its amount is owed to the partner again and paid with a later settlement),
so it follows maker-checker as approval does, whatever the batch's state (approved: the bank file is
out; paid: the bank said it was paid, and then it came back):

    (none) --report--> reported --confirm (someone else)--> confirmed   (the payout is failed, and a
                          |                                              payout_return entry owes it again)
                          +--dismiss--> dismissed --report--> reported ...

Only a confirmed bounce writes the `payout_return` entry; a reported one changes no figure. Each
step commits its line change, the batch event and the audit record in one transaction, and a step
that finds its work done (a retry, or a second click) changes nothing and answers the same.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..auth import Principal
from ..domain.actors import same_person
from ..domain.errors import Conflict, NotFound
from ..domain.ledger import PAYOUT_RETURN, Entry, payout_return_entry_id
from ..domain.maker_checker import require_checker
from ..domain.settlement import APPROVED, PAID
from ..store.items import iso
from ..store.settlement import line_from
from ..store.uow import TransactOp
from .settlement.deps import Deps

REPORTED, CONFIRMED, DISMISSED = "reported", "confirmed", "dismissed"
ATTEMPTS = 4

# (state before, state after) -> the audit record to commit with the change; None: no audit.
Audit = Callable[[Any, Any], TransactOp] | None


def view(item: dict[str, Any]) -> dict[str, Any]:
    """A payout's bounce as the API, the CLI and the audit log show it (the same for a repeat)."""
    status = item.get("bounce_status")
    out = {
        "payout_id": line_from(item).payout_id,
        "period": item["period"],
        "partner_id": item["partner_id"],
        "currency": item["currency"],
        "payout_minor": item["payout_minor"],
        "status": status or "none",
        "reason": item.get("bounce_reason"),
        "reported_by": item.get("bounce_reported_by"),
        "reported_at": item.get("bounce_reported_at"),
        "confirmed_by": item.get("bounce_confirmed_by"),
        "confirmed_at": item.get("bounce_confirmed_at"),
        "dismissed_by": item.get("bounce_dismissed_by"),
        "dismissed_at": item.get("bounce_dismissed_at"),
        "dismissal": item.get("bounce_dismissal"),
    }
    if status == CONFIRMED:
        out.update(entry_id=payout_return_entry_id(out["payout_id"]), returned_minor=item["payout_minor"])
    return out


def _line(d: Deps, period: str, partner_id: str, currency: str) -> tuple[dict[str, Any], dict[str, Any]]:
    batch = d.uow.settlement.batch(period)
    if batch is None:
        raise NotFound(f"no settlement batch for {period}", code="unknown_batch")
    if batch["status"] not in (APPROVED, PAID):
        raise Conflict("only payouts of an approved or paid batch can bounce", code="invalid_state")
    item = d.uow.settlement.line_item(period, partner_id, currency)
    if item is None or item["payout_minor"] <= 0:
        raise NotFound(f"no payout to {partner_id} in {currency} in {period}", code="unknown_payout")
    return batch, item


def _event(kind: str, item: dict[str, Any], who: Principal, now: datetime, **extra: Any) -> dict[str, Any]:
    # The time orders the batch's events; the random tail keeps two steps in one instant apart.
    stamp = f"{now.strftime('%Y%m%dT%H%M%S%f')}#{secrets.token_hex(4)}"
    return {
        "event_id": f"{stamp}#{kind}#{item['partner_id']}#{item['currency']}",
        "event": kind,
        "by": who.subject,
        "at": now.isoformat(),
        "payout_id": line_from(item).payout_id,
        **extra,
    }


def _unchanged(d: Deps, item: dict[str, Any], audit: Audit) -> dict[str, Any]:
    """A request that found its work done: the same answer, and the audit log says it changed nothing."""
    if audit is not None:
        d.uow.settlement.write_audit([audit(view(item), view(item))])
    return view(item)


def report(
    d: Deps,
    period: str,
    partner_id: str,
    currency: str,
    reason: str,
    who: Principal,
    now: datetime,
    audit: Audit = None,
) -> dict[str, Any]:
    """The bank sent a payout back: record it, for a second finance user to confirm. No money moves."""
    who.require("finance")
    for _ in range(ATTEMPTS):
        _, item = _line(d, period, partner_id, currency)
        if item.get("bounce_status") in (REPORTED, CONFIRMED):
            return _unchanged(d, item, audit)
        after = {
            **item,
            "bounce_status": REPORTED,
            "bounce_reason": reason,
            "bounce_reported_by": who.subject,
            "bounce_reported_at": iso(now),
        }
        for k in ("bounce_dismissed_by", "bounce_dismissed_at", "bounce_dismissal"):
            after.pop(k, None)
        if d.uow.settlement.report_bounce(
            line_from(item),
            reason,
            who.subject,
            now,
            _event("payout_bounce_reported", item, who, now, reason=reason),
            [audit(view(item), view(after))] if audit else [],
        ):
            return view(after)
        # someone reported, confirmed or dismissed it meanwhile: look again
    raise Conflict("the payout changed while reporting it; retry", code="busy")


def confirm(
    d: Deps,
    period: str,
    partner_id: str,
    currency: str,
    who: Principal,
    now: datetime,
    audit: Audit = None,
    reason: str = "",
) -> dict[str, Any]:
    """A second finance user confirms a reported bounce: the payout is failed and its amount goes
    back to the partner's balance as a `payout_return` entry in the first open period, paid with
    that period's settlement (its line names who reported and who confirmed it)."""
    who.require("finance")
    for _ in range(ATTEMPTS):
        batch, item = _line(d, period, partner_id, currency)
        status = item.get("bounce_status")
        if status not in (REPORTED, CONFIRMED):
            raise Conflict("no bounce of this payout is reported; report it first", code="bounce_not_reported")
        reporter: str = item["bounce_reported_by"]
        require_checker(
            who.subject,
            [reporter, batch["created_by"], batch["changed_by"], *batch.get("touched_by", [])],
            "You reported this bounce or worked on its batch; a second finance user must confirm it.",
        )
        if status == CONFIRMED:
            return _unchanged(d, item, audit)
        line = line_from(item)
        landing = d.cal.period_of(now)  # open by time: its settlement starts only a fence after its lock
        entry = Entry(
            payout_return_entry_id(line.payout_id),
            PAYOUT_RETURN,
            partner_id,
            line.payout_id,
            0,
            line.payout_minor,
            currency,
            batch["plan_version"],
            0,
            now,
            now,
            period=landing,
            settles_in=landing,
            trace={
                "payout_id": line.payout_id,
                "reason": item.get("bounce_reason"),
                "reported_by": reporter,
                "reported_at": item.get("bounce_reported_at"),
                "confirmed_by": who.subject,
                "confirmed_at": iso(now),
            },
        )
        after = {
            **item,
            "bounce_status": CONFIRMED,
            "bounce_confirmed_by": who.subject,
            "bounce_confirmed_at": iso(now),
            "payout_status": "failed",
        }
        if d.uow.settlement.confirm_bounce(
            line,
            entry,
            reporter,
            item.get("bounce_reason", ""),
            who.subject,
            now,
            _event(
                "payout_failed",
                item,
                who,
                now,
                reason=item.get("bounce_reason"),
                reported_by=reporter,
                confirmed_by=who.subject,
                confirm_reason=reason or None,
                entry_id=entry.entry_id,
                landing_period=landing,
            ),
            [audit(view(item), view(after))] if audit else [],
        ):
            return view(after)
        # confirmed meanwhile (a retry whose reply was lost): look again
    raise Conflict("the payout could not be marked failed because of concurrent changes; retry", code="busy")


def dismiss(
    d: Deps,
    period: str,
    partner_id: str,
    currency: str,
    reason: str,
    who: Principal,
    now: datetime,
    audit: Audit = None,
) -> dict[str, Any]:
    """Withdraw a reported bounce that did not happen. Moves no money, so any finance user may."""
    who.require("finance")
    for _ in range(ATTEMPTS):
        _, item = _line(d, period, partner_id, currency)
        status = item.get("bounce_status")
        if status == DISMISSED and same_person(item.get("bounce_dismissed_by"), who.subject):
            return _unchanged(d, item, audit)
        if status != REPORTED:
            raise Conflict(
                f"no pending bounce report to dismiss (it is {status or 'not reported'})", code="bounce_not_reported"
            )
        after = {
            **item,
            "bounce_status": DISMISSED,
            "bounce_dismissed_by": who.subject,
            "bounce_dismissed_at": iso(now),
            "bounce_dismissal": reason,
        }
        if d.uow.settlement.dismiss_bounce(
            line_from(item),
            item["bounce_reported_by"],
            reason,
            who.subject,
            now,
            _event("payout_bounce_dismissed", item, who, now, reason=reason),
            [audit(view(item), view(after))] if audit else [],
        ):
            return view(after)
    raise Conflict("the payout changed while dismissing the report; retry", code="busy")
