"""Where a bonus is computed: the threshold ladder, overachievement above a target, and ranks.

Everything here is a function of plain values: period volumes in minor units of the plan's bonus
currency, the plan's bonus rules, a target. Each result carries the trace that explains it.

Who takes part agrees with compression (domain/tree.py): a partner who is not active when its period
closes earns no bonus and is not re-evaluated for rank, as it takes no commission level. Its sales
still count towards its ancestors' team volume: they are paid commissions on them (docs/rules.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInput
from .money import BPS, apply_bps, round_half_even
from .tree import ACTIVE

PERSONAL, TEAM = "personal", "team"
FLAT, RATE = "flat", "rate"
THRESHOLD, OVERACHIEVEMENT = "threshold", "overachievement"


@dataclass(frozen=True)
class Tier:
    threshold_minor: int
    flat_minor: int | None = None  # a flat amount for reaching this tier (the highest reached pays)
    rate_bps: int | None = None  # or a rate on the whole volume once this tier is reached

    @property
    def form(self) -> str:
        return FLAT if self.flat_minor is not None else RATE


@dataclass(frozen=True)
class RankRule:
    rank: str
    min_personal_minor: int = 0
    min_team_minor: int = 0


@dataclass(frozen=True)
class BonusRules:
    currency: str
    basis: str = PERSONAL  # the volume both bonuses are measured on
    team_levels: int = 0  # for the team basis: the partner's own sales and its downline to N levels
    ladder: tuple[Tier, ...] = ()
    overachievement_bps: int = 0
    overachievement_cap_minor: int | None = None
    default_targets: Mapping[str, int] = field(default_factory=dict)  # rank -> target
    ranks: tuple[RankRule, ...] = ()  # highest first; the first one met is the rank


@dataclass(frozen=True)
class Volume:
    personal_minor: int
    team_minor: int

    def on(self, basis: str) -> int:
        return self.team_minor if basis == TEAM else self.personal_minor


@dataclass(frozen=True)
class Bonus:
    kind: str
    amount_minor: int
    trace: dict[str, Any]


def validate(rules: BonusRules, max_depth: int) -> BonusRules:
    if rules.basis not in (PERSONAL, TEAM):
        raise InvalidInput("bonus basis is 'personal' or 'team'", code="invalid_plan")
    if rules.basis == TEAM and not 1 <= rules.team_levels <= max_depth:
        raise InvalidInput(f"team_levels is between 1 and {max_depth}", code="invalid_plan")
    thresholds = [t.threshold_minor for t in rules.ladder]
    if thresholds != sorted(set(thresholds)) or any(t <= 0 for t in thresholds):
        raise InvalidInput("ladder thresholds are positive and strictly increasing", code="invalid_plan")
    for t in rules.ladder:
        if (t.flat_minor is None) == (t.rate_bps is None):
            raise InvalidInput("each tier pays either flat_minor or rate_bps", code="invalid_plan")
        if (t.flat_minor is not None and t.flat_minor < 0) or (t.rate_bps is not None and not 0 <= t.rate_bps <= BPS):
            raise InvalidInput("tier amounts are not negative and rates are at most 10000 bps", code="invalid_plan")
    if not 0 <= rules.overachievement_bps <= BPS:
        raise InvalidInput("overachievement_bps is between 0 and 10000", code="invalid_plan")
    if rules.overachievement_cap_minor is not None and rules.overachievement_cap_minor < 0:
        raise InvalidInput("the overachievement cap is not negative", code="invalid_plan")
    if any(v < 0 for v in rules.default_targets.values()):
        raise InvalidInput("targets are not negative", code="invalid_plan")
    return rules


def reached_tier(volume_minor: int, ladder: Iterable[Tier]) -> Tier | None:
    reached = [t for t in ladder if volume_minor >= t.threshold_minor]
    return reached[-1] if reached else None


def next_tier(volume_minor: int, ladder: Iterable[Tier]) -> Tier | None:
    return next((t for t in ladder if volume_minor < t.threshold_minor), None)


def threshold_bonus(volume: Volume, rules: BonusRules) -> Bonus | None:
    """The highest tier reached pays its flat amount, or its rate on the whole volume."""
    v = volume.on(rules.basis)
    tier = reached_tier(v, rules.ladder)
    if tier is None:
        return None
    amount = tier.flat_minor if tier.flat_minor is not None else round_half_even(apply_bps(v, tier.rate_bps or 0))
    trace = {
        "basis": rules.basis,
        "volume_minor": v,
        "tier_threshold_minor": tier.threshold_minor,
        "form": tier.form,
        "flat_minor": tier.flat_minor,
        "rate_bps": tier.rate_bps,
    }
    if rules.basis == TEAM:
        trace["team_levels"] = rules.team_levels
    return Bonus(THRESHOLD, amount, trace) if amount > 0 else None


def overachievement_bonus(
    volume: Volume, target_minor: int | None, rules: BonusRules, target_source: str = "rank default"
) -> Bonus | None:
    """A rate on the volume above the target, optionally capped."""
    if target_minor is None or rules.overachievement_bps == 0:
        return None
    v = volume.on(rules.basis)
    above = max(0, v - target_minor)
    exact = round_half_even(apply_bps(above, rules.overachievement_bps))
    cap = rules.overachievement_cap_minor
    amount = min(exact, cap) if cap is not None else exact
    if amount <= 0:
        return None
    return Bonus(
        OVERACHIEVEMENT,
        amount,
        {
            "basis": rules.basis,
            "volume_minor": v,
            "target_minor": target_minor,
            "target_source": target_source,
            "above_target_minor": above,
            "rate_bps": rules.overachievement_bps,
            "cap_minor": cap,
            "capped": cap is not None and exact > cap,
        },
    )


def target_for(rank: str, explicit_minor: int | None, rules: BonusRules) -> tuple[int | None, str]:
    """The partner's own target for the period if an admin set one, else its rank's default."""
    if explicit_minor is not None:
        return explicit_minor, "set for the partner"
    if rank in rules.default_targets:
        return rules.default_targets[rank], f"default for rank {rank}"
    return None, "none"


def evaluate_rank(volume: Volume, rules: BonusRules, default_rank: str) -> str:
    """The highest rank whose personal and team minimums the period's volume meets."""
    for rule in rules.ranks:
        if volume.personal_minor >= rule.min_personal_minor and volume.team_minor >= rule.min_team_minor:
            return rule.rank
    return default_rank


def team_volumes(personal: Mapping[str, int], uplines: Mapping[str, Iterable[str]], levels: int) -> dict[str, int]:
    """Each partner's own volume plus that of its downline to `levels` levels, from every partner's
    upline (nearest first). Only partners with volume, or with downline volume, appear."""
    team: dict[str, int] = dict(personal)
    for partner_id, volume in personal.items():
        for ancestor in list(uplines.get(partner_id, ()))[:levels]:
            team[ancestor] = team.get(ancestor, 0) + volume
    return team


def bonuses_for(volume: Volume, rank: str, explicit_target_minor: int | None, rules: BonusRules) -> list[Bonus]:
    target, source = target_for(rank, explicit_target_minor, rules)
    found = [threshold_bonus(volume, rules), overachievement_bonus(volume, target, rules, source)]
    return [b for b in found if b is not None]


def takes_part(status: str | None) -> bool:
    """Whether a partner earns bonuses and is evaluated for rank at a period's close: only if it is
    active then, as only an active partner takes a commission level."""
    return status == ACTIVE


def bonuses_at_close(
    volume: Volume, status: str | None, rank: str, explicit_target_minor: int | None, rules: BonusRules
) -> list[Bonus]:
    """A partner's bonuses for a period, given its status at the period's close."""
    return bonuses_for(volume, rank, explicit_target_minor, rules) if takes_part(status) else []


def rank_at_close(volume: Volume, status: str | None, current_rank: str, rules: BonusRules, default_rank: str) -> str:
    """The rank a partner holds from the next period. One not active at the close is not evaluated:
    it keeps the rank it had, so it gains none (and loses none until it is active at a close again)."""
    if not takes_part(status):
        return current_rank
    return evaluate_rank(volume, rules, default_rank)


def progress(
    volume: Volume, rank: str, explicit_target_minor: int | None, rules: BonusRules, status: str = ACTIVE
) -> dict[str, Any]:
    """Mid-period: where the partner stands, what the next tier needs, and what it would earn now
    (nothing unless it is active: the estimate applies the rule the close will apply)."""
    v = volume.on(rules.basis)
    reached, upcoming = reached_tier(v, rules.ladder), next_tier(v, rules.ladder)
    target, source = target_for(rank, explicit_target_minor, rules)
    bonuses = bonuses_at_close(volume, status, rank, explicit_target_minor, rules)
    return {
        "currency": rules.currency,
        "basis": rules.basis,
        "volume_minor": v,
        "personal_volume_minor": volume.personal_minor,
        "team_volume_minor": volume.team_minor,
        "tier_reached_minor": reached.threshold_minor if reached else None,
        "next_tier_minor": upcoming.threshold_minor if upcoming else None,
        "needed_for_next_tier_minor": upcoming.threshold_minor - v if upcoming else 0,
        "target_minor": target,
        "target_source": source,
        "overachievement_minor": max(0, v - target) if target is not None else 0,
        "estimate": True,
        "earns_bonuses": takes_part(status),
        "estimated_bonuses": [{"kind": b.kind, "amount_minor": b.amount_minor, "trace": b.trace} for b in bonuses],
        "estimated_bonus_total_minor": sum(b.amount_minor for b in bonuses),
    }
