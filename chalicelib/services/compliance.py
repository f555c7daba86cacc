"""The compliance report: a period's payments against the program's profile (domain/compliance.py),
and the plan and reward program in force checked again (they may predate the profile)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from ..domain import compliance
from ..domain.plans import plan_in_force
from ..domain.rewards import program_in_force
from ..store.uow import UnitOfWork


def report(uow: UnitOfWork, period: str, profile: str, now: datetime) -> dict[str, Any]:
    """Read from the settlement index: the entries that period's settlement pays, shard by shard."""
    out = compliance.report(period, profile, uow.settlement.entries_of_period(period))
    plans = uow.plans.all()
    in_force: dict[str, Any] = {"plan": None, "reward_program": None}
    live = [p for p in plans if p.effective_from <= now]
    if live:
        plan = plan_in_force(live, now)
        in_force["plan"] = {
            "version": plan.version,
            "paid_levels": compliance.paid_levels(plan),
            "violations": [v.as_dict() for v in compliance.plan_violations(profile, plan)],
        }
    programs = uow.members.program_versions().items
    program = program_in_force(programs, now)
    in_force["reward_program"] = {
        "version": program.version,
        "violations": [v.as_dict() for v in compliance.program_violations(profile, program)],
    }
    out["in_force"] = in_force
    return out


def report_csv(r: dict[str, Any]) -> str:
    """One row per figure: the depth distribution, each partner's split, recruitment-only income."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "period", "level", "partner_id", "currency", "earners", "amount_minor", "own_minor",
                "downline_minor", "own_share_bps"])  # fmt: skip
    p = r["period"]
    for row in r["depth"]:
        for cur, amount in row["amounts_minor"].items():
            w.writerow(["depth", p, row["level"], "", cur, row["earners"], amount, "", "", ""])
    for row in r["partners"]:
        share = "" if row["own_share_bps"] is None else row["own_share_bps"]
        w.writerow(["income", p, "", row["partner_id"], row["currency"], "", "", row["own_minor"],
                    row["downline_minor"], share])  # fmt: skip
    for cur, amount in r["recruitment_only_minor"].items():
        w.writerow(["recruitment_only", p, "", "", cur, "", amount, "", "", ""])
    return buf.getvalue()
