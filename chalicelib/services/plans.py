"""Publish commission plan versions, and preview what a candidate plan would pay ("what-if")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..domain import compliance
from ..domain.bonuses import BonusRules
from ..domain.commissions import CommissionLine, compute_commissions
from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict, InvalidInput, Unprocessable
from ..domain.plans import DEFAULT_MIN_PAYOUT_MINOR, Plan, plan_in_force, validate_plan
from ..domain.standing import TreeRules
from ..domain.tree import Node
from ..store.uow import UnitOfWork
from . import partners as partner_svc


def candidate(
    version: int,
    *,
    levels_bps: list[int],
    cap_bps: int | None,
    rank_overrides: Mapping[str, Mapping[int, int]],
    holding_days: int,
    effective_from: datetime,
    max_depth: int,
    min_payout_minor: int = DEFAULT_MIN_PAYOUT_MINOR,
    bonus: BonusRules | None = None,
    renewal_months: int | None = None,
) -> Plan:
    """A plan as published would store it, validated by the one rule (publishing and the what-if
    preview refuse a plan with the same messages)."""
    return validate_plan(
        Plan(
            version,
            effective_from,
            tuple(levels_bps),
            cap_bps,
            {r: dict(o) for r, o in rank_overrides.items()},
            holding_days,
            min_payout_minor,
            bonus,
            renewal_months,
        ),
        max_depth,
    )


def publish(
    uow: UnitOfWork,
    *,
    levels_bps: list[int],
    cap_bps: int | None,
    rank_overrides: Mapping[str, Mapping[int, int]],
    holding_days: int,
    effective_from: datetime,
    created_by: str,
    max_depth: int,
    now: datetime,
    min_payout_minor: int = DEFAULT_MIN_PAYOUT_MINOR,
    bonus: BonusRules | None = None,
    renewal_months: int | None = None,
    profile: str = compliance.DEFAULT,
) -> Plan:
    """Add the next plan version. Versions are never edited; a new one supersedes from its date.
    Publishing the plan that is already the latest version changes nothing and returns it: that is a
    retry (of a request whose answer was lost, or of a write whose reply was), not a new plan.
    A plan the program's compliance `profile` does not allow is refused before anything is written."""
    for _ in range(5):
        # Numbered after every stored version, readable or not (store/readable.py).
        versions = uow.plans.versions()
        plans = versions.items
        plan = candidate(
            versions.stored + 1,
            levels_bps=levels_bps,
            cap_bps=cap_bps,
            rank_overrides=rank_overrides,
            holding_days=holding_days,
            effective_from=effective_from,
            max_depth=max_depth,
            min_payout_minor=min_payout_minor,
            bonus=bonus,
            renewal_months=renewal_months,
        )
        compliance.enforce(compliance.plan_violations(profile, plan))
        if plans and plans[-1].version == versions.stored and replace(plans[-1], version=plan.version) == plan:
            return plans[-1]
        version, listing = uow.plans.publish(plan, created_by, now)
        uow.claim(version)
        uow.add(listing)
        try:
            uow.commit()
            return plan
        except (AlreadyExists, ConcurrentUpdate):
            continue  # someone else's version, or our own whose reply was lost: read again
    raise Conflict("another plan was being published; try again", code="busy")


# ---- what-if ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleOrder:
    """An order to price, never recorded: attributed to a real partner (its chain now, with each
    ancestor's status and rank), or to a chain of `depth` active partners of the default rank."""

    amount_minor: int
    currency: str
    partner_id: str | None = None
    depth: int | None = None


def _line(line: CommissionLine | None) -> dict[str, Any] | None:
    if line is None:
        return None
    return {
        "partner_id": line.partner_id,
        "rank": line.rank,
        "rate_bps": line.rate_bps,
        "amount_minor": line.amount_minor,
        "capped": line.capped,
    }


def preview(uow: UnitOfWork, plan: Plan, sample: SampleOrder, now: datetime, tree: TreeRules) -> dict[str, Any]:
    """What `sample` would pay at each level under the plan in force now and under `plan`, each
    computed by domain/commissions.compute_commissions (the order path's one rule). Writes nothing."""
    try:
        current: Plan | None = plan_in_force(uow.plans.all(), now)
    except Unprocessable:
        current = None  # no plan yet: the preview shows the candidate alone
    levels = max(plan.depth, current.depth if current else 0)
    if sample.partner_id is not None:
        partner = partner_svc.get(uow, sample.partner_id)
        nodes = list(partner_svc.chain_for(uow, partner, now, levels, tree).nodes)
    else:
        depth = sample.depth or levels
        if not 1 <= depth <= 30:
            raise InvalidInput("depth is between 1 and 30", code="invalid_sample")
        nodes = [Node(f"level-{i}") for i in range(1, depth + 1)]

    def pay(p: Plan | None) -> dict[int, CommissionLine]:
        if p is None:
            return {}
        return {ln.level: ln for ln in compute_commissions(sample.amount_minor, nodes[0], nodes[1:], p)}

    now_pays, then_pays = pay(current), pay(plan)
    return {
        "amount_minor": sample.amount_minor,
        "currency": sample.currency,
        "partner_id": sample.partner_id,
        "chain": [{"partner_id": n.partner_id, "status": n.status, "rank": n.rank} for n in nodes],
        "current_version": current.version if current else None,
        "levels": [
            {"level": lvl, "current": _line(now_pays.get(lvl)), "candidate": _line(then_pays.get(lvl))}
            for lvl in range(1, levels + 1)
        ],
        "current_total_minor": sum(ln.amount_minor for ln in now_pays.values()),
        "candidate_total_minor": sum(ln.amount_minor for ln in then_pays.values()),
    }
