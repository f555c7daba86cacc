"""Admin review: the audit log, and orders held for fraud review (release or reject)."""

from __future__ import annotations

from chalice import Blueprint

from .. import bootstrap
from ..domain.errors import InvalidInput
from ..services import holds as svc
from .guard import audit_op
from .http import caller, json_response, query, route

bp = Blueprint(__name__)


@route(bp, "/admin/audit")
def audit_log():
    """One UTC day of audit records (default today), oldest first."""
    caller(bp).require("admin")
    day = query(bp, "day") or bootstrap.now().date().isoformat()
    if len(day) != 10 or not day.replace("-", "").isdigit() or day[4] != "-" or day[7] != "-":
        raise InvalidInput("day must be YYYY-MM-DD")
    return json_response({"day": day, "records": bootstrap.uow().review.audit_day(day)})


@route(bp, "/admin/holds")
def holds():
    caller(bp).require("admin", "finance")
    return json_response({"holds": bootstrap.uow().review.holds()})


@route(bp, "/admin/holds/{order_id}/release", ("POST",))
def release(order_id: str):
    """Pay a held order's commissions after all: new entries, settled like any other."""
    who = caller(bp).require("admin")
    s = bootstrap.settings()
    op = audit_op(bp, who, "hold.release", f"order:{order_id}", {"status": "held"}, {"status": "released"})
    return json_response(svc.release(bootstrap.uow(), order_id, s.calendar, who.subject, bootstrap.now(), op))


@route(bp, "/admin/holds/{order_id}/reject", ("POST",))
def reject(order_id: str):
    """Never pay a held order's commissions."""
    who = caller(bp).require("admin")
    op = audit_op(bp, who, "hold.reject", f"order:{order_id}", {"status": "held"}, {"status": "rejected"})
    return json_response(svc.reject(bootstrap.uow(), order_id, who.subject, bootstrap.now(), op))
