"""Commission plans: versioned, effective-dated rates per level in basis points."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from . import bonuses
from .errors import InvalidInput, Unprocessable
from .money import BPS

DEFAULT_HOLDING_DAYS = 30
DEFAULT_MIN_PAYOUT_MINOR = 5_000


@dataclass(frozen=True)
class Plan:
    version: int
    effective_from: datetime
    levels_bps: tuple[int, ...]
    cap_bps: int | None = None
    # rank -> {level -> bps}: an earner of that rank gets these rates instead of levels_bps.
    rank_overrides: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    holding_days: int = DEFAULT_HOLDING_DAYS
    min_payout_minor: int = DEFAULT_MIN_PAYOUT_MINOR  # smaller balances carry forward
    bonus: bonuses.BonusRules | None = None  # threshold ladder, overachievement and ranks
    # A subscription's renewals pay commissions for this many months from its first paid period
    # (Dub's `maxDuration`); None: every renewal pays, as long as the customer is attributed.
    renewal_months: int | None = None

    def rate_for(self, level: int, rank: str | None) -> int:
        override = self.rank_overrides.get(rank or "", {})
        if level in override:
            return override[level]
        return self.levels_bps[level - 1]

    @property
    def depth(self) -> int:
        return len(self.levels_bps)


def validate_plan(plan: Plan, max_depth: int) -> Plan:
    """Refuse a plan that could pay more than the order or reach past the stored upline."""
    if not 1 <= plan.depth <= max_depth:
        raise InvalidInput(f"a plan pays between 1 and {max_depth} levels", code="invalid_plan")
    rates = list(plan.levels_bps) + [r for o in plan.rank_overrides.values() for r in o.values()]
    if any(not 0 <= r <= BPS for r in rates):
        raise InvalidInput("every rate is between 0 and 10000 basis points", code="invalid_plan")
    for rank, override in plan.rank_overrides.items():
        if any(not 1 <= lvl <= plan.depth for lvl in override):
            raise InvalidInput(f"rank {rank!r} overrides a level the plan does not pay", code="invalid_plan")
    if plan.cap_bps is not None and not 0 <= plan.cap_bps <= BPS:
        raise InvalidInput("cap_bps is between 0 and 10000", code="invalid_plan")
    if plan.cap_bps is None and sum(plan.levels_bps) > BPS:
        raise InvalidInput("levels add up to more than the order; set cap_bps", code="invalid_plan")
    if not 0 <= plan.holding_days <= 365:
        raise InvalidInput("holding_days is between 0 and 365", code="invalid_plan")
    if plan.min_payout_minor < 0:
        raise InvalidInput("min_payout_minor is not negative", code="invalid_plan")
    if plan.bonus is not None:
        bonuses.validate(plan.bonus, max_depth)
    if plan.renewal_months is not None and not 1 <= plan.renewal_months <= 120:
        raise InvalidInput("renewal_months is between 1 and 120", code="invalid_plan")
    return plan


def add_months(at: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months later (the month's last day if it is shorter)."""
    month0 = at.month - 1 + months
    year, month = at.year + month0 // 12, month0 % 12 + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


def renewal_pays(plan: Plan, started_at: datetime, period_start: datetime) -> bool:
    """Whether a subscription's payment for the period starting `period_start` still earns
    commissions: within `renewal_months` of the subscription's first paid period."""
    return plan.renewal_months is None or period_start < add_months(started_at, plan.renewal_months)


def plan_in_force(plans: list[Plan], at: datetime) -> Plan:
    """The latest version whose effective_from is at or before `at`."""
    candidates = [p for p in plans if p.effective_from <= at]
    if not candidates:
        raise Unprocessable("no commission plan is in force at that time", code="no_plan_in_force")
    return max(candidates, key=lambda p: (p.effective_from, p.version))
