"""Publish and list commission plan versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from ..domain import compliance
from ..domain.bonuses import BonusRules
from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict
from ..domain.plans import DEFAULT_MIN_PAYOUT_MINOR, Plan, validate_plan
from ..store.uow import UnitOfWork


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
        plan = validate_plan(
            Plan(
                versions.stored + 1,
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
