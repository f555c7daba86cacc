"""Program admin: commission plans, partner moves and status."""
from __future__ import annotations

from chalice import Blueprint

from .. import bootstrap
from ..services import partners as partner_svc
from ..services import plans as plan_svc
from ..store.repository import iso
from .http import caller, json_response, parse, route
from .partners import partner_view
from .schemas import MovePartner, PlanIn, SetStatus

bp = Blueprint(__name__)


def plan_view(p) -> dict:
    return {"version": p.version, "effective_from": iso(p.effective_from), "levels_bps": list(p.levels_bps),
            "cap_bps": p.cap_bps, "holding_days": p.holding_days,
            "rank_overrides": {r: {str(k): v for k, v in o.items()} for r, o in p.rank_overrides.items()}}


@route(bp, "/admin/plans", ("POST",))
def publish_plan():
    who = caller(bp).require("admin")
    req = parse(bp, PlanIn)
    now = bootstrap.now()
    plan = plan_svc.publish(bootstrap.repository(), levels_bps=req.levels_bps, cap_bps=req.cap_bps,
                            rank_overrides=req.rank_overrides, holding_days=req.holding_days,
                            effective_from=req.effective_from or now, created_by=who.subject,
                            max_depth=bootstrap.settings().max_depth, now=now)
    return json_response(plan_view(plan), 201)


@route(bp, "/admin/plans")
def list_plans():
    caller(bp).require("admin", "finance")
    return json_response({"plans": [plan_view(p) for p in bootstrap.repository().plans()]})


@route(bp, "/admin/partners/{partner_id}/move", ("POST",))
def move(partner_id: str):
    caller(bp).require("admin")
    req = parse(bp, MovePartner)
    moved = partner_svc.move(bootstrap.repository(), partner_id, req.new_sponsor_code,
                             bootstrap.settings().max_depth)
    return json_response(partner_view(moved))


@route(bp, "/admin/partners/{partner_id}/status", ("POST",))
def set_status(partner_id: str):
    caller(bp).require("admin")
    req = parse(bp, SetStatus)
    changed = partner_svc.set_status(bootstrap.repository(), partner_id, req.status, req.rank,
                                     bootstrap.settings().max_depth)
    return json_response(partner_view(changed))
