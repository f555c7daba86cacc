"""A partner's standing in a period, read mid-period: the estimate of what closing now would pay."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain import bonuses as rules
from . import partners as partner_svc
from .settlement.deps import Deps, plan_for


def progress(d: Deps, partner_id: str, period: str, now: datetime) -> dict[str, Any]:
    """Volumes as projected so far (store/stats.py: behind the orders by seconds), the partner's
    standing now, its target: an estimate, which the period's close computes exactly."""
    partner = partner_svc.get(d.uow, partner_id)
    standing = partner.node_at(now)
    plan = plan_for(d.uow, d.cal, period)
    base = {
        "partner_id": partner_id,
        "period": period,
        "plan_version": plan.version,
        "rank": standing.rank,
        "lock_at": d.cal.lock_at(period).isoformat(),
    }
    if plan.bonus is None:
        return {**base, "bonus_rules": None, "estimate": True}
    levels = plan.bonus.team_levels or d.tree.max_depth
    team_ids = [e.partner_id for e in d.uow.partners.downline(partner_id) if e.level <= levels]
    volumes = d.uow.stats.in_period([partner_id, *team_ids], period)
    personal = volumes.get(partner_id, {}).get(plan.bonus.currency, 0)
    team = personal + sum(volumes.get(t, {}).get(plan.bonus.currency, 0) for t in team_ids)
    target = d.uow.settlement.target(partner_id, period)
    return {**base, **rules.progress(rules.Volume(personal, team), standing.rank, target, plan.bonus, standing.status)}
