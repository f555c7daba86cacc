"""The bonus entries and the ranks a period earns at its close (the rules: domain/bonuses.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ...domain import bonuses as rules
from ...domain.ledger import BONUS, Entry, bonus_entry_id
from ...domain.periods import next_period
from ...domain.plans import Plan
from ...domain.tree import Node
from .. import partners as partner_svc
from .deps import Deps


def _closing(d: Deps, period: str) -> datetime:
    """The instant a period's standings are taken at: its last."""
    return d.cal.end(period) - timedelta(microseconds=1)


def _volumes(d: Deps, period: str, bonus: rules.BonusRules) -> tuple[dict[str, rules.Volume], dict[str, Node]]:
    """Each partner's personal and team volume in the period, and its standing at the close."""
    personal = {pid: net.get(bonus.currency, 0) for pid, net in d.uow.settlement.volumes(period)}
    partners = d.uow.partners.get_many(personal)
    levels = bonus.team_levels or d.tree.max_depth
    uplines = partner_svc.uplines_at(d.uow, partners, _closing(d, period), levels, d.tree)
    team = rules.team_volumes(personal, uplines, levels)
    ids = set(personal) | set(team)
    partners.update(d.uow.partners.get_many(ids - set(partners)))
    at = _closing(d, period)
    return (
        {pid: rules.Volume(personal.get(pid, 0), team.get(pid, 0)) for pid in ids},
        {pid: p.node_at(at) for pid, p in partners.items()},
    )


def compute_bonuses(d: Deps, period: str, plan: Plan) -> list[Entry]:
    """The period's bonus entries, each with the trace that explains it. Only partners active at the
    close earn one (domain/bonuses.takes_part); everyone's sales count towards team volume."""
    if plan.bonus is None:
        return []
    volumes, standing = _volumes(d, period, plan.bonus)
    earners = {pid for pid in volumes if pid in standing and rules.takes_part(standing[pid].status)}
    targets = d.uow.settlement.targets(earners, period) if earners else {}
    out = []
    for pid in sorted(earners):
        rank, status = standing[pid].rank, standing[pid].status
        for b in rules.bonuses_at_close(volumes[pid], status, rank, targets.get(pid), plan.bonus):
            out.append(
                Entry(
                    bonus_entry_id(period, b.kind, pid),
                    BONUS,
                    pid,
                    f"bonus:{period}",
                    0,
                    b.amount_minor,
                    plan.bonus.currency,
                    plan.version,
                    b.trace.get("rate_bps") or 0,
                    d.cal.end(period),
                    d.cal.lock_at(period),
                    period=period,
                    settles_in=period,
                    trace={**b.trace, "kind": b.kind, "period": period, "plan_version": plan.version, "rank": rank},
                )
            )
    return out


def apply_ranks(d: Deps, period: str, plan: Plan, now: datetime) -> None:
    """Evaluate rank rules on the period's volumes at its close; a new rank is scheduled to take
    effect once the fence has passed (domain/standing.py). A partner not active at the close keeps
    its rank (domain/bonuses.rank_at_close). Idempotent: a rank already scheduled or held is not
    scheduled again."""
    if plan.bonus is None or not plan.bonus.ranks:
        return
    volumes, _ = _volumes(d, period, plan.bonus)
    at = _closing(d, period)
    for partner in d.uow.partners.all():
        volume = volumes.get(partner.partner_id, rules.Volume(0, 0))
        held = partner.node_at(at)
        new = rules.rank_at_close(volume, held.status, held.rank, plan.bonus, "base")
        if new != held.rank and new != partner.latest.rank:
            d.uow.settlement.record_rank(partner.partner_id, next_period(period), new, held.rank, period)
            partner_svc.set_rank(d.uow, partner.partner_id, new, now, d.tree)
