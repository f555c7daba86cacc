"""What a partner's dashboard shows: its funnel for a period, its earnings by month, its payouts."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

import io

from ..domain.errors import NotFound
from ..domain.ledger import COMMISSION
from ..exports import DETAIL_COLUMNS, CsvOut, HashingWriter, detail_row
from . import partners as partner_svc
from .settlement import Deps, partner_ledger


def funnel(d: Deps, partner_id: str, period: str) -> dict[str, Any]:
    """Clicks on its links, direct recruits enrolled, orders attributed to it, and what it earned,
    all in one period."""
    partner_svc.get(d.repo, partner_id)
    start, end = d.cal.start(period), d.cal.end(period)
    recruits = [e["partner_id"] for e in d.repo.downline(partner_id, 1)]
    joined = d.repo.get_partners(recruits)
    earned: dict[str, int] = defaultdict(int)
    orders = set()
    for e in d.repo.ledger_between(partner_id, start, end):
        earned[e.currency] += e.amount_minor
        if e.kind == COMMISSION and e.level == 1:
            orders.add(e.order_id)
    return {
        "partner_id": partner_id, "period": period,
        "clicks": d.repo.click_count(partner_id, start, end),
        "signups": sum(1 for p in joined.values() if p.created_at and start <= p.created_at < end),
        "orders": len(orders),
        "earned_minor": dict(sorted(earned.items())),
    }


def earnings_by_month(d: Deps, partner_id: str, now) -> dict[str, Any]:
    """Net earnings per period and state, oldest first: the dashboard's chart."""
    entries, states, _ = partner_ledger(d, partner_id, now)
    months: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for e in entries:
        months[e.period or d.cal.period_of(e.occurred_at)][e.currency][states[e.entry_id]] += e.amount_minor
    return {"partner_id": partner_id, "months": [
        {"period": p, "currencies": {c: dict(s) for c, s in cur.items()}} for p, cur in sorted(months.items())]}


def payouts(d: Deps, partner_id: str) -> dict[str, Any]:
    partner_svc.get(d.repo, partner_id)
    out = []
    batches: dict[str, dict] = {}
    for line, details in d.store.lines_of_partner(partner_id):
        batch = batches.setdefault(line.period, d.store.batch(line.period) or {})
        out.append({
            "period": line.period, "currency": line.currency, "payout_minor": line.payout_minor,
            "carried_in_minor": line.carried_in_minor, "carried_out_minor": line.carried_out_minor,
            "commissions_minor": line.commissions_minor, "bonuses_minor": line.bonuses_minor,
            "clawbacks_minor": line.clawbacks_minor, "adjustments_minor": line.adjustments_minor,
            "batch_status": batch.get("status"), "payout_status": details.get("payout_status") or
            ("carried" if line.payout_minor == 0 else batch.get("status")),
        })
    return {"partner_id": partner_id, "payouts": out}


def statement_csv(d: Deps, partner_id: str, period: str) -> str:
    """The partner's slice of a batch's detail export (same columns, same escaping)."""
    partner_svc.get(d.repo, partner_id)
    if not d.store.lines_of_partner(partner_id, period=period):
        raise NotFound(f"no payout line for {partner_id} in {period}", code="unknown_payout")
    buf = io.BytesIO()
    out = CsvOut(HashingWriter(buf), DETAIL_COLUMNS)
    for e in d.store.entries_of_line(period, partner_id):
        out.row(detail_row(period, e))
    return buf.getvalue().decode("utf-8")
