"""Partners: enrol (admin), and each partner's own view of itself, its tree, links, clicks and earnings."""

from __future__ import annotations

from chalice import Blueprint

from .. import bootstrap
from ..security import identity_hashes, keyed_hash
from ..services import partners as svc
from ..services.settlement.partner_ledger import partner_ledger
from .access import pages_for
from .guard import audit, limit_signups
from .http import account_status, caller, fingerprint, json_response, parse, query_int, route
from .schemas import EnrolPartner

bp = Blueprint(__name__)


def partner_view(p, uow=None, figures: bool = True) -> dict:
    return svc.view(uow or bootstrap.uow(), p, bootstrap.now(), figures)


@route(bp, "/partners", ("POST",), body=EnrolPartner)
def enrol():
    who = caller(bp).require("admin")
    req = parse(bp, EnrolPartner)
    s = bootstrap.settings()
    counted = limit_signups(bp, s)
    customer_hash = keyed_hash(s.hash_pepper, req.customer_id) if req.customer_id else None
    partner, created = svc.enrol(
        bootstrap.uow(),
        name=req.name,
        code=req.code,
        sponsor_code=req.sponsor_code,
        customer_hash=customer_hash,
        fingerprint=fingerprint(req),
        max_depth=s.max_depth,
        now=bootstrap.now(),
        identity_hashes=identity_hashes(s.hash_pepper, req.email, req.phone, req.payment_fingerprint),
        extra=(counted,),
    )
    # A replayed enrolment is recorded too, as changing nothing (before == after).
    audit(
        bp, who, "partner.enrol", partner.partner_id, None if created else partner_view(partner), partner_view(partner)
    )
    return json_response(partner_view(partner), 201 if created else 200)


@route(bp, "/me")
def me():
    who = caller(bp)
    # `status`: the caller's own partner status (what the portal may offer it), `registered` for a
    # member, null for staff.
    return json_response(
        {
            "subject": who.subject,
            "role": who.role,
            "partner_id": who.partner_id,
            "member_id": who.member_id,
            "status": account_status(bp),
            "pages": pages_for(who.role),
            # The program's current period by its own calendar and clock: the portal counts periods back
            # from it, never from the browser's clock (another time zone, or a wrong clock).
            "period": bootstrap.settings().calendar.period_of(bootstrap.now()),
        }
    )


@route(bp, "/partners/{partner_id}")
def read(partner_id: str):
    caller(bp).require_partner(partner_id)
    return json_response(partner_view(svc.get(bootstrap.uow(), partner_id)))


@route(bp, "/partners/{partner_id}/upline")
def upline(partner_id: str):
    caller(bp).require_partner(partner_id)
    nodes = svc.upline(bootstrap.uow(), partner_id, bootstrap.now(), bootstrap.settings().tree_rules)
    return json_response(
        {
            "partner_id": partner_id,
            "upline": [
                {"level": i, "partner_id": n.partner_id, "status": n.status, "rank": n.rank}
                for i, n in enumerate(nodes, start=1)
            ],
        }
    )


@route(bp, "/partners/{partner_id}/downline")
def downline(partner_id: str):
    caller(bp).require_partner(partner_id)
    level = query_int(bp, "level", 1, bootstrap.settings().max_depth)
    return json_response(svc.downline(bootstrap.uow(), partner_id, level))


@route(bp, "/partners/{partner_id}/links")
def links(partner_id: str):
    caller(bp).require_partner(partner_id)
    return json_response({"links": [vars(v) for v in bootstrap.uow().links.of_partner(partner_id)]})


@route(bp, "/partners/{partner_id}/clicks")
def clicks(partner_id: str):
    caller(bp).require_partner(partner_id)
    return json_response({"clicks": [vars(v) for v in bootstrap.uow().links.clicks_of(partner_id)]})


@route(bp, "/partners/{partner_id}/commissions")
def commissions(partner_id: str):
    caller(bp).require_partner(partner_id)
    svc.get(bootstrap.uow(), partner_id)
    entries, states, totals = partner_ledger(bootstrap.settlement(), partner_id, bootstrap.now())
    return json_response(
        {
            "partner_id": partner_id,
            "totals": totals,
            "entries": [
                {
                    "entry_id": e.entry_id,
                    "kind": e.kind,
                    "order_id": e.order_id,
                    "level": e.level,
                    "amount_minor": e.amount_minor,
                    "currency": e.currency,
                    "rate_bps": e.rate_bps,
                    "plan_version": e.plan_version,
                    "occurred_at": e.occurred_at.isoformat(),
                    "payable_at": e.payable_at.isoformat(),
                    "reverses": e.reverses,
                    "refund_id": e.refund_id,
                    "state": states[e.entry_id],
                    "period": e.period,
                    "settles_in": e.settles_in,
                    "trace": e.trace,
                }
                for e in entries
            ],
        }
    )
