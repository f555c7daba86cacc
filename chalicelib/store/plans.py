"""Commission plan versions: appended, never edited."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..domain.bonuses import BonusRules, RankRule, Tier
from ..domain.plans import DEFAULT_MIN_PAYOUT_MINOR, Plan
from . import keys, ops
from .items import iso, parse_iso
from .ops import Update, put_new
from .readable import Versions, read_versions


def plan_item(p: Plan) -> dict[str, Any]:
    return {
        "version": p.version,
        "effective_from": iso(p.effective_from),
        "levels_bps": list(p.levels_bps),
        "cap_bps": p.cap_bps,
        "holding_days": p.holding_days,
        "min_payout_minor": p.min_payout_minor,
        "rank_overrides": {r: {str(lvl): bps for lvl, bps in o.items()} for r, o in p.rank_overrides.items()},
        "bonus": json.dumps(bonus_rules_dict(p.bonus), sort_keys=True) if p.bonus else None,
        "renewal_months": p.renewal_months,
    }


def bonus_rules_dict(b: BonusRules) -> dict[str, Any]:
    return {
        "currency": b.currency,
        "basis": b.basis,
        "team_levels": b.team_levels,
        "ladder": [
            {"threshold_minor": t.threshold_minor, "flat_minor": t.flat_minor, "rate_bps": t.rate_bps} for t in b.ladder
        ],
        "overachievement_bps": b.overachievement_bps,
        "overachievement_cap_minor": b.overachievement_cap_minor,
        "default_targets": dict(b.default_targets),
        "ranks": [
            {"rank": r.rank, "min_personal_minor": r.min_personal_minor, "min_team_minor": r.min_team_minor}
            for r in b.ranks
        ],
    }


def bonus_rules_from(d: dict[str, Any]) -> BonusRules:
    return BonusRules(
        currency=d["currency"],
        basis=d.get("basis", "personal"),
        team_levels=d.get("team_levels", 0),
        ladder=tuple(Tier(t["threshold_minor"], t.get("flat_minor"), t.get("rate_bps")) for t in d.get("ladder", [])),
        overachievement_bps=d.get("overachievement_bps", 0),
        overachievement_cap_minor=d.get("overachievement_cap_minor"),
        default_targets=dict(d.get("default_targets", {})),
        ranks=tuple(
            RankRule(r["rank"], r.get("min_personal_minor", 0), r.get("min_team_minor", 0)) for r in d.get("ranks", [])
        ),
    )


def plan_from(item: dict[str, Any]) -> Plan:
    return Plan(
        version=item["version"],
        effective_from=parse_iso(item["effective_from"]),
        levels_bps=tuple(item["levels_bps"]),
        cap_bps=item.get("cap_bps"),
        rank_overrides={
            r: {int(lvl): bps for lvl, bps in o.items()} for r, o in item.get("rank_overrides", {}).items()
        },
        holding_days=item.get("holding_days", 30),
        min_payout_minor=item.get("min_payout_minor", DEFAULT_MIN_PAYOUT_MINOR),
        bonus=bonus_rules_from(json.loads(item["bonus"])) if item.get("bonus") else None,
        renewal_months=item.get("renewal_months"),
    )


def plan_versions_from(item: dict[str, Any] | None) -> Versions[Plan]:
    return read_versions("/".join(keys.plans()), (item or {}).get("versions", []), plan_from)


class PlanRepo:
    def __init__(self, table: Any):
        self.table = table

    def all(self) -> list[Plan]:
        return self.versions().items

    def versions(self) -> Versions[Plan]:
        """Every stored version that can be read; one that cannot is skipped and reported (store/readable.py)."""
        return plan_versions_from(self.table.get(keys.plans()))

    def publish(self, plan: Plan, created_by: str, now: datetime) -> tuple[ops.Put, ops.Update]:
        """(the version item, the claim; the listing, appended only at the version count read, so
        concurrent publishes take turns)."""
        existing = plan.version - 1
        return (
            put_new(
                keys.plan_version(plan.version), {**plan_item(plan), "created_by": created_by, "created_at": iso(now)}
            ),
            Update(
                keys.plans(),
                append={"versions": [plan_item(plan)]},
                when=ops.Absent("versions") | ops.SizeIs("versions", existing),
            ),
        )
