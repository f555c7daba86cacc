"""Partners' coupon codes: made by an admin for a partner, or by a partner for itself within a
limit; listed per partner; and the codes flagged as leaked, for review."""

from __future__ import annotations

from chalice import Blueprint

from .. import bootstrap
from ..services import coupons as svc
from .guard import audit, audit_op
from .http import caller, json_response, parse, route
from .schemas import CreateCoupon

bp = Blueprint(__name__)


@route(bp, "/partners/{partner_id}/coupons", ("POST",), body=CreateCoupon)
def create(partner_id: str):
    """201 with the code; 200 with the same code when the request is repeated. A partner makes its
    own codes, within `UPLINE_COUPON_LIMIT`; an admin makes them for any partner, without that limit."""
    who = caller(bp).require("partner", "admin")
    who.require_partner(partner_id)
    req = parse(bp, CreateCoupon)
    s = bootstrap.settings()
    target = f"coupon:{req.code.upper()}"
    after = {"code": req.code.upper(), "partner_id": partner_id}
    ref, created = svc.create(
        bootstrap.uow(),
        partner_id,
        req.code,
        who.subject,
        bootstrap.now(),
        None if who.role == "admin" else s.coupon_limits,
        audit_op(bp, who, "coupon.create", target, None, after),
    )
    if not created:
        audit(bp, who, "coupon.create", target, after, after)  # a repeat: recorded, as changing nothing
    return json_response({"code": ref.code, "partner_id": ref.partner_id, "kind": ref.kind}, 201 if created else 200)


@route(bp, "/partners/{partner_id}/coupons")
def listing(partner_id: str):
    caller(bp).require_partner(partner_id)
    return json_response({"coupons": svc.listing(bootstrap.uow(), partner_id)})


@route(bp, "/admin/coupons/flagged")
def flagged():
    """Codes used by many distinct customers within one window (UPLINE_COUPON_LEAK_*): likely on a
    coupon-sharing site. What to do is the admin's call: the code keeps attributing until then."""
    caller(bp).require("admin", "finance")
    return json_response({"flagged": [vars(f) for f in svc.flags(bootstrap.uow())]})
