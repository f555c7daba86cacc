"""A partner's standing in a period, read mid-period: the estimate of what closing now would pay."""
from __future__ import annotations

from typing import Any

from ..domain import bonuses as rules
from . import partners as partner_svc
from .settlement import Deps, plan_for


def progress(d: Deps, partner_id: str, period: str) -> dict[str, Any]:
    partner = partner_svc.get(d.repo, partner_id)
    plan = plan_for(d.repo, d.cal, period)
    base = {"partner_id": partner_id, "period": period, "plan_version": plan.version, "rank": partner.rank,
            "lock_at": d.cal.lock_at(period).isoformat()}
    if plan.bonus is None:
        return {**base, "bonus_rules": None, "estimate": True}
    levels = plan.bonus.team_levels or d.max_depth
    team_ids = [e["partner_id"] for e in d.repo.downline(partner_id) if e["level"] <= levels]
    volumes = d.store.volume_of([partner_id, *team_ids], period)
    personal = volumes.get(partner_id, {}).get(plan.bonus.currency, 0)
    team = personal + sum(volumes.get(t, {}).get(plan.bonus.currency, 0) for t in team_ids)
    target = d.store.targets([partner_id], period).get(partner_id)
    return {**base, **rules.progress(rules.Volume(personal, team), partner.rank, target, plan.bonus,
                                     partner.status)}
