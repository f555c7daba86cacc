"""Compliance profiles: the rules a market adds to what a plan and a reward program may pay, and the
figures a regulator asks for. Pure: plans, programs and ledger entries in, violations and figures out.

`default` adds nothing (today's behaviour). `cn` is the Chinese market's line: WeChat allows at most
two levels of distribution rewards, counting the person who shares, and the 2013 opinion `CIRCULAR` treats three
or more levels with headcount-based pay as pyramid selling. So under `cn` a plan pays at most the
attributed partner and its sponsor, nobody is rewarded for a sign-up alone, and nobody pays to join.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .bonuses import TEAM, BonusRules
from .errors import Unprocessable
from .ledger import BONUS, COMMISSION, PAYOUT_RETURN, REVERSAL, Entry
from .money import BPS
from .plans import Plan
from .rewards import COUPON, POINTS, RewardProgram

DEFAULT, CN = "default", "cn"
PROFILES = (DEFAULT, CN)
CN_MAX_LEVELS = 2

MAX_TWO_LEVELS, NO_RECRUITMENT_REWARD, NO_JOIN_FEE = "cn_max_two_levels", "cn_no_recruitment_reward", "cn_no_join_fee"
# Gong Tong Zi [2013] No. 37, the 2013 opinion on pyramid selling (its brackets are U+3014 and U+3015).
CIRCULAR = "\u516c\u901a\u5b57\u30142013\u301537\u53f7"
_WHY = f"WeChat's two-level rule for distribution rewards; {CIRCULAR}"


@dataclass(frozen=True)
class Violation:
    rule: str  # a stable code
    message: str  # names the rule and why it is there

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


class Refused(Unprocessable):
    """A plan or reward program the profile does not allow; nothing of it was written."""

    code = "compliance"

    def __init__(self, violations: list[Violation]):
        super().__init__("; ".join(f"{v.rule}: {v.message}" for v in violations))
        self.violations = violations


def enforce(violations: list[Violation]) -> None:
    if violations:
        raise Refused(violations)


# ---- plans ---------------------------------------------------------------------------------------


def _bonus_levels(bonus: BonusRules | None) -> int:
    """Levels a bonus pays on: its earner's own volume (1), plus `team_levels` of downline on the
    team basis. A bonus that can never pay (no ladder, no overachievement rate) pays on none."""
    if bonus is None or (not bonus.ladder and bonus.overachievement_bps == 0):
        return 0
    return 1 + (bonus.team_levels if bonus.basis == TEAM else 0)


def paid_levels(plan: Plan) -> int:
    """The deepest level anyone can be paid at: the last level with a non-zero rate in the base
    levels or any rank's override, or the depth of volume a bonus pays on, whichever is deeper."""
    rates = dict(enumerate(plan.levels_bps, start=1))
    deepest = max((lvl for lvl, r in rates.items() if r > 0), default=0)
    for override in plan.rank_overrides.values():
        deepest = max(deepest, max((lvl for lvl, r in override.items() if r > 0), default=0))
    return max(deepest, _bonus_levels(plan.bonus))


def plan_violations(profile: str, plan: Plan) -> list[Violation]:
    if profile != CN:
        return []
    levels = paid_levels(plan)
    if levels <= CN_MAX_LEVELS:
        return []
    return [
        Violation(
            MAX_TWO_LEVELS,
            f"at most {CN_MAX_LEVELS} paid levels (the attributed partner and its sponsor), counting base "
            f"levels, rank overrides and team bonuses; this plan pays {levels} ({_WHY})",
        )
    ]


# ---- reward programs and fees ---------------------------------------------------------------------


def program_violations(profile: str, program: RewardProgram) -> list[Violation]:
    """Invite and enrolment rewards are coupons or points, and the advocate's only comes with the
    friend's purchase: never credit (money) for a sign-up."""
    if profile != CN:
        return []
    wrong = []
    if program.friend_reward.amount > 0 and program.friend_reward.kind not in (COUPON, POINTS):
        wrong.append(f"the friend's reward is {program.friend_reward.kind}, not a coupon or points")
    if program.advocate_reward.amount > 0 and program.advocate_reward.kind != POINTS:
        wrong.append(f"the inviter's reward is {program.advocate_reward.kind}, not points")
    if program.advocate_reward.amount > 0 and program.min_order_minor <= 0:
        wrong.append("the inviter's reward needs a purchase: min_order_minor must be above 0")
    if not wrong:
        return []
    return [
        Violation(
            NO_RECRUITMENT_REWARD,
            f"no reward for recruitment alone: invite and enrolment rewards are coupons or points tied to "
            f"a purchase, not cash or credit; {'; '.join(wrong)} ({_WHY})",
        )
    ]


def fee_violations(profile: str, fields: Iterable[str]) -> list[Violation]:
    """Upline has no fee to join, and under `cn` any setting that would bring one is refused by
    name (`join_fee_minor`, `entry_fee`, ...), before the request's own schema looks at it."""
    named = sorted(f for f in fields if "fee" in f.lower())
    if profile != CN or not named:
        return []
    return [Violation(NO_JOIN_FEE, f"no fee to join the program; refused: {', '.join(named)} ({_WHY})")]


# ---- the report ----------------------------------------------------------------------------------


def _add(into: dict[str, int], currency: str, amount: int) -> None:
    into[currency] = into.get(currency, 0) + amount


def _is_own_sales(e: Entry) -> bool:
    """A level-1 commission (the partner's own attributed sale) or a bonus on personal volume; a
    team bonus counts as downline income, own sales and all (the conservative reading)."""
    if e.kind == BONUS:
        return (e.trace or {}).get("basis") != TEAM
    return e.level == 1


def report(period: str, profile: str, entries: Iterable[Entry]) -> dict[str, Any]:
    """Depth distribution of earners (partners left with a positive sum of commissions at a level),
    each partner's income from its own sales versus its downline, and income for recruitment alone,
    over the entries a period's settlement pays (held ones are in no period). Amounts are signed sums
    per currency: a reversal lowers its level's figure."""
    net: dict[tuple[int, str, str], int] = defaultdict(int)  # (level, partner, currency) -> signed sum
    by_level: dict[int, dict[str, int]] = defaultdict(dict)
    income: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"own": 0, "downline": 0})
    recruitment: dict[str, int] = {}
    for e in entries:
        if e.kind == PAYOUT_RETURN:
            continue  # money given back, earned in an earlier period
        if e.kind in (COMMISSION, REVERSAL):
            net[(e.level, e.partner_id, e.currency)] += e.amount_minor
            _add(by_level[e.level], e.currency, e.amount_minor)
        elif e.kind != BONUS:
            # Nothing in Upline pays for a sign-up; any other kind of income would be that.
            _add(recruitment, e.currency, e.amount_minor)
            continue
        income[(e.partner_id, e.currency)]["own" if _is_own_sales(e) else "downline"] += e.amount_minor
    partners = []
    for (pid, cur), split in sorted(income.items()):
        total = split["own"] + split["downline"]
        # A share only of income that is all earned (a period's reversals can leave a side negative).
        share = split["own"] * BPS // total if total > 0 and min(split.values()) >= 0 else None
        partners.append(
            {
                "partner_id": pid,
                "currency": cur,
                "own_minor": split["own"],
                "downline_minor": split["downline"],
                "own_share_bps": share,
            }
        )
    # An earner at a level: a partner left with more than nothing at it, in some currency.
    earners: dict[int, set[str]] = defaultdict(set)
    for (lvl, pid, _), amount in net.items():
        if amount > 0:
            earners[lvl].add(pid)
    depth = [
        {"level": lvl, "earners": len(earners[lvl]), "amounts_minor": dict(sorted(by_level[lvl].items()))}
        for lvl in sorted(by_level)
    ]
    return {
        "period": period,
        "profile": profile,
        "depth": depth,
        "partners": partners,
        "recruitment_only_minor": dict(sorted(recruitment.items())),
        "violations": [v.as_dict() for v in report_violations(profile, depth, recruitment)],
    }


def report_violations(profile: str, depth: list[dict[str, Any]], recruitment: Mapping[str, int]) -> list[Violation]:
    """What the period's payments show against the profile (a plan published before the profile
    was chosen still pays the orders it priced)."""
    if profile != CN:
        return []
    out = []
    deep = [row["level"] for row in depth if row["level"] > CN_MAX_LEVELS and row["earners"]]
    if deep:
        out.append(Violation(MAX_TWO_LEVELS, f"partners were paid at levels {deep} ({_WHY})"))
    if any(recruitment.values()):
        out.append(Violation(NO_RECRUITMENT_REWARD, f"income for recruitment alone was paid ({_WHY})"))
    return out
