"""Member tiers: Normal, Bronze, Silver, Gold, by rolling spend and order count. Successful invites
count as orders at a configurable weight. Upgrades apply at once; downgrades happen only at the
monthly review and only after a grace period, so nobody is demoted in the middle of a month.

Bands are half-open [lower, next lower): with the defaults, 500.00 spent or 3 orders is Bronze,
1,000.00 or 6 is Silver, 2,000.00 or 12 is Gold. Either measure is enough unless `require_both`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .errors import InvalidInput
from .money import BPS

NORMAL, BRONZE, SILVER, GOLD = "normal", "bronze", "silver", "gold"
TIERS = (NORMAL, BRONZE, SILVER, GOLD)


@dataclass(frozen=True)
class TierRule:
    tier: str
    min_spend_minor: int
    min_orders: int
    discount_bps: int
    advocate_multiplier_bps: int = BPS


DEFAULT_RULES = (
    TierRule(NORMAL, 0, 0, 500),
    TierRule(BRONZE, 50_000, 3, 800),
    TierRule(SILVER, 100_000, 6, 1_000),
    TierRule(GOLD, 200_000, 12, 1_200),
)


@dataclass(frozen=True)
class TierProgram:
    rules: tuple[TierRule, ...] = DEFAULT_RULES
    window_days: int = 30
    invite_weight: int = 1  # one successful invite counts as this many orders
    grace_months: int = 1
    require_both: bool = False

    def rule(self, tier: str) -> TierRule:
        return self.rules[TIERS.index(tier)]


@dataclass(frozen=True)
class Activity:
    spend_minor: int = 0
    orders: int = 0
    invites: int = 0

    def counted_orders(self, program: TierProgram) -> int:
        return self.orders + self.invites * program.invite_weight


@dataclass(frozen=True)
class TierState:
    tier: str = NORMAL
    grace_since: str | None = None  # "YYYY-MM" of the review that found the member below its tier


def rank(tier: str) -> int:
    return TIERS.index(tier)


def validate_tiers(p: TierProgram) -> TierProgram:
    if tuple(r.tier for r in p.rules) != TIERS:
        raise InvalidInput("tiers are normal, bronze, silver, gold in that order", code="invalid_program")
    for lower, upper in itertools.pairwise(p.rules):
        if upper.min_spend_minor < lower.min_spend_minor or upper.min_orders < lower.min_orders:
            raise InvalidInput("each tier needs at least what the one below needs", code="invalid_program")
    if any(not 0 <= r.discount_bps <= BPS or not 0 <= r.advocate_multiplier_bps <= 10 * BPS for r in p.rules):
        raise InvalidInput("discounts are 0-10000 bps and multipliers 0-100000 bps", code="invalid_program")
    if not 1 <= p.window_days <= 366 or not 0 <= p.invite_weight <= 100 or not 0 <= p.grace_months <= 12:
        raise InvalidInput("window_days 1-366, invite_weight 0-100, grace_months 0-12", code="invalid_program")
    return p


def activity_in_window(days: Mapping[str, Activity], now: datetime, program: TierProgram) -> Activity:
    """Sum the daily buckets ("YYYYMMDD") of the last `window_days` days, today included."""
    first = (now.date() - timedelta(days=program.window_days - 1)).strftime("%Y%m%d")
    last = now.date().strftime("%Y%m%d")
    picked = [a for d, a in days.items() if first <= d <= last]
    return Activity(sum(a.spend_minor for a in picked), sum(a.orders for a in picked), sum(a.invites for a in picked))


def _meets(rule: TierRule, act: Activity, program: TierProgram) -> bool:
    by_spend = act.spend_minor >= rule.min_spend_minor
    by_orders = act.counted_orders(program) >= rule.min_orders
    return (by_spend and by_orders) if program.require_both else (by_spend or by_orders)


def qualified_tier(act: Activity, program: TierProgram) -> str:
    tier = NORMAL
    for rule in program.rules[1:]:
        if _meets(rule, act, program):
            tier = rule.tier
    return tier


def after_activity(state: TierState, act: Activity, program: TierProgram) -> TierState:
    """Upgrades apply at once (and end any grace); activity never demotes."""
    q = qualified_tier(act, program)
    if rank(q) > rank(state.tier):
        return TierState(q, None)
    if state.grace_since and rank(q) >= rank(state.tier):
        return TierState(state.tier, None)
    return state


def months_between(earlier: str, later: str) -> int:
    y1, m1 = map(int, earlier.split("-"))
    y2, m2 = map(int, later.split("-"))
    return (y2 - y1) * 12 + (m2 - m1)


def monthly_review(state: TierState, act: Activity, month: str, program: TierProgram) -> TierState:
    """The review on the first day of `month` ("YYYY-MM"). Below its tier, a member first enters
    grace (keeping the tier for `grace_months` whole months); still below when grace has run out,
    it moves down to the tier it qualifies for. Qualifying again ends the grace."""
    q = qualified_tier(act, program)
    if rank(q) >= rank(state.tier):
        return TierState(q, None)
    if program.grace_months == 0:
        return TierState(q, None)
    if state.grace_since is None:
        return TierState(state.tier, month)
    if months_between(state.grace_since, month) >= program.grace_months:
        return TierState(q, None)
    return state


def review_month(now: datetime) -> str:
    return now.strftime("%Y-%m")


def next_tier_needs(tier: str, act: Activity, program: TierProgram) -> dict | None:
    """What the member still needs for the tier above: spend or orders (either is enough unless
    both are required). None at the top."""
    if tier == GOLD:
        return None
    nxt = program.rules[rank(tier) + 1]
    return {
        "tier": nxt.tier,
        "spend_minor_needed": max(0, nxt.min_spend_minor - act.spend_minor),
        "orders_needed": max(0, nxt.min_orders - act.counted_orders(program)),
        "either_is_enough": not program.require_both,
    }


def day_key(at: datetime | date) -> str:
    return at.strftime("%Y%m%d")


def merge_days(items: Iterable[tuple[str, Activity]]) -> dict[str, Activity]:
    out: dict[str, Activity] = {}
    for d, a in items:
        b = out.get(d, Activity())
        out[d] = Activity(b.spend_minor + a.spend_minor, b.orders + a.orders, b.invites + a.invites)
    return out
