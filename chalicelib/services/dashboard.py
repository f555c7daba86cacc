"""What a partner's dashboard shows: its funnel for a period, its earnings by month, its payouts."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import timedelta
from typing import Any

from ..domain.errors import NotFound
from ..domain.ledger import BONUS, COMMISSION, HOLD, REVERSAL
from ..exports import DETAIL_COLUMNS, CsvOut, HashingWriter, detail_row
from . import partners as partner_svc
from .settlement.deps import Deps
from .settlement.partner_ledger import partner_ledger


def funnel(d: Deps, partner_id: str, period: str) -> dict[str, Any]:
    """Clicks on its links, direct recruits enrolled, orders attributed to it, and what it earned,
    all in one period: commissions (net of the refunds that took some back, as they happened in the
    period) and the period's bonuses, apart. Never a returned payout (it is not earned, it is owed
    again), and never a commission twice: a held one counts when it is released, as its release."""
    partner_svc.get(d.uow, partner_id)
    start, end = d.cal.start(period), d.cal.end(period)
    recruits = [e.partner_id for e in d.uow.partners.downline(partner_id, 1)]
    joined = d.uow.partners.get_many(recruits)
    commissions: dict[str, int] = defaultdict(int)
    bonuses: dict[str, int] = defaultdict(int)
    orders = set()
    # A period's bonus is dated at its end (the next period's first instant): read up to it too.
    for e in d.uow.ledger.between(partner_id, start, end + timedelta(microseconds=1)):
        if e.kind == BONUS:
            if e.period == period:
                bonuses[e.currency] += e.amount_minor
        elif e.occurred_at >= end:
            continue
        elif e.kind in (COMMISSION, REVERSAL) and e.settles_in != HOLD:
            commissions[e.currency] += e.amount_minor
        if e.kind == COMMISSION and e.level == 1 and e.occurred_at < end and not (e.trace or {}).get("releases"):
            orders.add(e.order_id)
    earned = {c: commissions.get(c, 0) + bonuses.get(c, 0) for c in sorted(set(commissions) | set(bonuses))}
    return {
        "partner_id": partner_id,
        "period": period,
        "clicks": d.uow.links.click_count(partner_id, start, end),
        "signups": sum(1 for p in joined.values() if p.created_at and start <= p.created_at < end),
        "orders": len(orders),
        "commissions_minor": dict(sorted(commissions.items())),
        "bonuses_minor": dict(sorted(bonuses.items())),
        "earned_minor": earned,  # commissions and bonuses
    }


def earnings_by_month(d: Deps, partner_id: str, now) -> dict[str, Any]:
    """Net earnings per period and state, oldest first: the dashboard's chart."""
    entries, states, _ = partner_ledger(d, partner_id, now)
    months: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for e in entries:
        months[e.period or d.cal.period_of(e.occurred_at)][e.currency][states[e.entry_id]] += e.amount_minor
    return {
        "partner_id": partner_id,
        "months": [
            {"period": p, "currencies": {c: dict(s) for c, s in cur.items()}} for p, cur in sorted(months.items())
        ],
    }


def payouts(d: Deps, partner_id: str) -> dict[str, Any]:
    partner_svc.get(d.uow, partner_id)
    out = []
    batches: dict[str, dict] = {}
    for line, details in d.uow.settlement.lines_of_partner(partner_id):
        batch = batches.setdefault(line.period, d.uow.settlement.batch(line.period) or {})
        out.append(
            {
                "period": line.period,
                "currency": line.currency,
                "payout_minor": line.payout_minor,
                "carried_in_minor": line.carried_in_minor,
                "carried_out_minor": line.carried_out_minor,
                "commissions_minor": line.commissions_minor,
                "bonuses_minor": line.bonuses_minor,
                "clawbacks_minor": line.clawbacks_minor,
                "adjustments_minor": line.adjustments_minor,
                "batch_status": batch.get("status"),
                "payout_status": details.get("payout_status")
                or ("carried" if line.payout_minor == 0 else batch.get("status")),
            }
        )
    return {"partner_id": partner_id, "payouts": out}


def statement_csv(d: Deps, partner_id: str, period: str) -> str:
    """The partner's slice of a batch's detail export (same columns, same escaping)."""
    partner_svc.get(d.uow, partner_id)
    if not d.uow.settlement.lines_of_partner(partner_id, period=period):
        raise NotFound(f"no payout line for {partner_id} in {period}", code="unknown_payout")
    buf = io.BytesIO()
    out = CsvOut(HashingWriter(buf), DETAIL_COLUMNS)
    for e in d.uow.settlement.entries_of_line(period, partner_id):
        out.row(detail_row(period, e))
    return buf.getvalue().decode("utf-8")
