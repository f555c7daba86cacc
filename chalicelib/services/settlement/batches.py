"""A settlement batch as finance reads it: every period's batch, one batch with its lines (and the
bounced payouts each pays again) and events, and the entries one line is made of."""

from __future__ import annotations

from typing import Any

from ...domain.errors import NotFound
from ...domain.ledger import PAYOUT_RETURN, Entry
from ...domain.settlement import Line
from .deps import Deps


def batch(d: Deps, period: str) -> dict[str, Any]:
    """The period's batch; NotFound if it has none."""
    found = d.uow.settlement.batch(period)
    if found is None:
        raise NotFound(f"no settlement batch for {period}", code="unknown_batch")
    return found


def batches(d: Deps) -> list[dict[str, Any]]:
    """Every period's batch, for finance's list."""
    return d.uow.settlement.batches()


def entries_of_line(d: Deps, period: str, partner_id: str) -> list[Entry]:
    """The ledger entries one partner's payout in a batch is made of."""
    return list(d.uow.settlement.entries_of_line(period, partner_id))


def show(d: Deps, period: str) -> dict[str, Any]:
    """One batch, its lines (each with the bounced payouts it pays again) and its events."""
    found = batch(d, period)
    return {
        "batch": found,
        "lines": [
            {**line_view(line, details), "returns": returned_payouts(d, period, line)}
            for line, details in d.uow.settlement.lines(period)
        ],
        "events": d.uow.settlement.events(period),
    }


def line_view(line: Line, details: dict[str, Any]) -> dict[str, Any]:
    """A line as the API and the CLI show it."""
    return {
        "payout_id": line.payout_id,
        "partner_id": line.partner_id,
        "partner_name": details.get("partner_name"),
        "currency": line.currency,
        "commissions_minor": line.commissions_minor,
        "bonuses_minor": line.bonuses_minor,
        "clawbacks_minor": line.clawbacks_minor,
        "adjustments_minor": line.adjustments_minor,
        "carried_in_minor": line.carried_in_minor,
        "payout_minor": line.payout_minor,
        "carried_out_minor": line.carried_out_minor,
        "entries": line.entry_count,
        "payout_status": details.get("payout_status"),
        "failure_reason": details.get("failure_reason"),
        "bounce_status": details.get("bounce_status"),
        "bounce_reported_by": details.get("bounce_reported_by"),
        "bounce_confirmed_by": details.get("bounce_confirmed_by"),
    }


def returned_payouts(d: Deps, period: str, line: Line) -> list[dict[str, Any]]:
    """The bounced payouts a line pays again (its adjustments), each with who reported and who
    confirmed the bounce: read from the payout_return entries it settled (rare, so read on demand)."""
    if not line.adjustments_minor:
        return []
    return [
        {
            "payout_id": e.order_id,
            "amount_minor": e.amount_minor,
            "entry_id": e.entry_id,
            **{k: (e.trace or {}).get(k) for k in ("reason", "reported_by", "confirmed_by")},
        }
        for e in d.uow.settlement.entries_of_line(period, line.partner_id)
        if e.kind == PAYOUT_RETURN and e.currency == line.currency
    ]
