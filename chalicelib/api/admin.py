"""Program admin: commission plans, partner moves and status."""

from __future__ import annotations

from chalice import Blueprint

from .. import bootstrap
from ..domain.bonuses import BonusRules
from ..domain.errors import InvalidInput
from ..domain.money import check_amount, check_currency, minor_units
from ..domain.periods import parse as check_period
from ..services import partners as partner_svc
from ..services import plans as plan_svc
from ..store.items import iso
from ..store.plans import bonus_rules_dict, bonus_rules_from
from .compliance import refuse_join_fee
from .guard import audit
from .http import caller, json_response, parse, query, route
from .partners import partner_view
from .schemas import BonusIn, MovePartner, PlanIn, PlanPreviewIn, SetStatus, TargetIn

bp = Blueprint(__name__)


def plan_view(p) -> dict:
    return {
        "version": p.version,
        "effective_from": iso(p.effective_from),
        "levels_bps": list(p.levels_bps),
        "cap_bps": p.cap_bps,
        "holding_days": p.holding_days,
        "min_payout_minor": p.min_payout_minor,
        "rank_overrides": {r: {str(k): v for k, v in o.items()} for r, o in p.rank_overrides.items()},
        "bonus": bonus_rules_dict(p.bonus) if p.bonus else None,
        "renewal_months": p.renewal_months,
    }


def _bonus_rules(b: BonusIn | None) -> BonusRules | None:
    if b is None:
        return None
    return bonus_rules_from(b.model_dump())


def _plan_terms(req: PlanIn, now) -> dict:
    """The plan a request describes, as the plan service takes it (publishing and the what-if alike)."""
    return {
        "levels_bps": req.levels_bps,
        "cap_bps": req.cap_bps,
        "rank_overrides": req.rank_overrides,
        "holding_days": req.holding_days,
        "effective_from": req.effective_from or now,
        "max_depth": bootstrap.settings().max_depth,
        "min_payout_minor": req.min_payout_minor,
        "bonus": _bonus_rules(req.bonus),
        "renewal_months": req.renewal_months,
    }


@route(bp, "/admin/plans", ("POST",), body=PlanIn)
def publish_plan():
    who = caller(bp).require("admin")
    refuse_join_fee(bp)
    req = parse(bp, PlanIn)
    now = bootstrap.now()
    uow = bootstrap.uow()
    before = [plan_view(p) for p in uow.plans.all()][-1:]
    plan = plan_svc.publish(
        uow, created_by=who.subject, now=now, **_plan_terms(req, now), profile=bootstrap.settings().compliance_profile
    )
    audit(bp, who, "plan.publish", f"plan:{plan.version}", before[0] if before else None, plan_view(plan))
    return json_response(plan_view(plan), 201)


@route(bp, "/admin/plans/preview", ("POST",), body=PlanPreviewIn)
def preview_plan():
    """What-if: what a sample order would pay at each level under the plan in force and under a
    candidate plan (refused with the messages publishing gives). Nothing is written or audited."""
    caller(bp).require("admin")
    req = parse(bp, PlanPreviewIn)
    now = bootstrap.now()
    plan = plan_svc.candidate(0, **_plan_terms(req, now))
    s = req.sample
    currency = check_currency(s.currency)
    if (s.amount is None) == (s.amount_minor is None):
        raise InvalidInput("sample: give amount (in currency units) or amount_minor, not both", code="invalid_sample")
    if s.partner_id is not None and s.depth is not None:
        raise InvalidInput("sample: give partner_id or depth, not both", code="invalid_sample")
    amount_minor = check_amount(minor_units(s.amount, currency) if s.amount is not None else s.amount_minor or 0)
    sample = plan_svc.SampleOrder(amount_minor, currency, s.partner_id, s.depth)
    uow = bootstrap.uow()
    return json_response(
        {"candidate": plan_view(plan), **plan_svc.preview(uow, plan, sample, now, bootstrap.settings().tree_rules)}
    )


@route(bp, "/admin/plans")
def list_plans():
    caller(bp).require("admin", "finance")
    versions = bootstrap.uow().plans.versions()
    return json_response(
        {"plans": [plan_view(p) for p in versions.items], "unreadable": [u.as_dict() for u in versions.unreadable]}
    )


@route(bp, "/admin/partners/{partner_id}/move", ("POST",), body=MovePartner)
def move(partner_id: str):
    who = caller(bp).require("admin")
    req = parse(bp, MovePartner)
    uow, now = bootstrap.uow(), bootstrap.now()
    before = partner_view(partner_svc.get(uow, partner_id), uow)
    moved = partner_svc.move(
        uow, partner_id, req.new_sponsor_code, now, bootstrap.settings().tree_rules, req.effective_at
    )
    audit(bp, who, "partner.move", f"partner:{partner_id}", before, partner_view(moved))
    return json_response(partner_view(moved))


@route(bp, "/admin/partners/{partner_id}/status", ("POST",), body=SetStatus)
def set_status(partner_id: str):
    who = caller(bp).require("admin")
    req = parse(bp, SetStatus)
    uow, now = bootstrap.uow(), bootstrap.now()
    before = partner_view(partner_svc.get(uow, partner_id), uow)
    changed = partner_svc.set_status(
        uow, partner_id, req.status, req.rank, now, bootstrap.settings().tree_rules, req.effective_at
    )
    audit(bp, who, "partner.status", f"partner:{partner_id}", before, partner_view(changed))
    return json_response(partner_view(changed))


@route(bp, "/admin/partners/{partner_id}/targets/{period}", ("PUT",), body=TargetIn)
def set_target(partner_id: str, period: str):
    """A partner's overachievement target for a period (else its rank's default applies)."""
    who = caller(bp).require("admin")
    req = parse(bp, TargetIn)
    check_period(period)
    partner_svc.get(bootstrap.uow(), partner_id)
    store = bootstrap.uow().settlement
    before = store.target(partner_id, period)
    store.set_target(partner_id, period, req.target_minor, who.subject, bootstrap.now())
    audit(
        bp,
        who,
        "target.set",
        f"partner:{partner_id}:{period}",
        None if before is None else {"target_minor": before},
        {"target_minor": req.target_minor},
    )
    return json_response({"partner_id": partner_id, "period": period, "target_minor": req.target_minor})


@route(bp, "/admin/partners")
def search_partners():
    """Partners whose id, code or name contains `q` (case-insensitive), oldest first, at most 200."""
    caller(bp).require("admin")
    q = (query(bp, "q") or "").strip().lower()[:64]
    found = []
    for p in bootstrap.uow().partners.all():
        if not q or q in p.partner_id.lower() or q in p.code.lower() or q in p.name.lower():
            found.append(partner_view(p, figures=False))
            if len(found) == 200:
                break
    return json_response({"partners": found})
