"""Publish and list commission plan versions."""
from __future__ import annotations

from datetime import datetime
from typing import Mapping

from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict
from ..domain.bonuses import BonusRules
from ..domain.plans import DEFAULT_MIN_PAYOUT_MINOR, Plan, validate_plan
from ..store.repository import Repository


def publish(repo: Repository, *, levels_bps: list[int], cap_bps: int | None,
            rank_overrides: Mapping[str, Mapping[int, int]], holding_days: int, effective_from: datetime,
            created_by: str, max_depth: int, now: datetime, min_payout_minor: int = DEFAULT_MIN_PAYOUT_MINOR,
            bonus: BonusRules | None = None) -> Plan:
    """Add the next plan version. Versions are never edited; a new one supersedes from its date."""
    for _ in range(5):
        version = len(repo.plans()) + 1
        plan = validate_plan(Plan(version, effective_from, tuple(levels_bps), cap_bps,
                                  {r: dict(o) for r, o in rank_overrides.items()}, holding_days,
                                  min_payout_minor, bonus), max_depth)
        try:
            repo.publish_plan(plan, created_by, now)
            return plan
        except AlreadyExists:
            # Either someone published this version first, or this very write landed and only its
            # reply was lost (the store's retry then meets it). In the second case it is done:
            # publishing again would add the same plan twice under the next version.
            if plan in repo.plans():
                return plan
            continue
        except ConcurrentUpdate:
            continue
    raise Conflict("another plan was being published; try again", code="busy")
