"""Admin review: the audit log (filtered by day, actor and action, page by page), and orders held for
fraud review (each hold's reasons, release or reject with the reviewer's reason)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import date

from chalice import Blueprint

from .. import bootstrap
from ..domain import audit as audit_rules
from ..domain import fraud
from ..domain.errors import InvalidInput
from ..services import holds as svc
from .guard import audit_op
from .http import caller, json_response, parse, query, query_int, route
from .schemas import HoldDecision, HoldRejection

bp = Blueprint(__name__)

ACTOR = re.compile(r"^[A-Za-z0-9@._:+-]{1,128}$")
ACTION = re.compile(r"^[a-z_]{1,32}(\.[a-z_]{1,32}){0,3}$")
HOLD_STATUSES = ("held", "released", "rejected")


def _day(raw: str | None) -> str:
    day = raw or bootstrap.now().date().isoformat()
    try:
        if len(day) != 10 or date.fromisoformat(day).isoformat() != day:
            raise ValueError(day)
    except ValueError:
        raise InvalidInput("day must be a date, YYYY-MM-DD", code="invalid_filter") from None
    return day


def _filter(name: str, pattern: re.Pattern[str]) -> str | None:
    raw = query(bp, name)
    if raw is None or raw == "":
        return None
    if not pattern.match(raw):
        raise InvalidInput(f"{name} is not a valid {name} filter", code="invalid_filter")
    return raw


def _cursor(filters: dict, after: str) -> str:
    """Opaque to the client: where to go on from, bound to the filters it was made for."""
    raw = json.dumps({**filters, "after": after}, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _resume(token: str | None, filters: dict) -> str | None:
    if token is None:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after = decoded.pop("after")
        ok = isinstance(after, str) and 0 < len(after) <= 128 and decoded == filters
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error):
        ok = False
    if not ok:
        raise InvalidInput("cursor is not one this log gave for these filters", code="invalid_cursor")
    return after


@route(bp, "/admin/audit")
def audit_log():
    """One UTC day of audit records (default today), oldest first, optionally only one actor's and
    one action's (or family's: `partner` for `partner.*`); `limit` per page (default 100), and
    `next_cursor` to read on while there may be more."""
    caller(bp).require("admin")
    day = _day(query(bp, "day"))
    actor, action = _filter("actor", ACTOR), _filter("action", ACTION)
    limit = query_int(bp, "limit", 1, 500) or 100
    filters = {"day": day, "actor": actor, "action": action}
    after = _resume(query(bp, "cursor"), filters)
    records, last = bootstrap.uow().review.audit_page(
        day, lambda item: audit_rules.matches(item, actor, action), limit, after
    )
    return json_response(
        {
            "day": day,
            "actor": actor,
            "action": action,
            "records": records,
            "next_cursor": _cursor(filters, last) if last else None,
        }
    )


def _hold_view(hold: dict) -> dict:
    return {
        **hold,
        "reasons": list(hold.get("reasons") or []),
        "reason_details": [{"code": r, "text": fraud.explain(r)} for r in hold.get("reasons") or []],
    }


@route(bp, "/admin/holds")
def holds():
    """The most recent holds, newest first (`status`: only held, released or rejected ones), each
    with its reasons as codes and in words."""
    caller(bp).require("admin", "finance")
    status = query(bp, "status")
    if status is not None and status not in HOLD_STATUSES:
        raise InvalidInput(f"status is one of {', '.join(HOLD_STATUSES)}", code="invalid_filter")
    found = [h for h in bootstrap.uow().review.holds() if status is None or h.get("status") == status]
    return json_response({"holds": [_hold_view(h) for h in found]})


@route(bp, "/admin/holds/{order_id}/release", ("POST",), body=HoldDecision)
def release(order_id: str):
    """Pay a held order's commissions after all: new entries, settled like any other."""
    who = caller(bp).require("admin")
    req = parse(bp, HoldDecision)
    s = bootstrap.settings()
    after = {"status": "released", **({"reason": req.reason} if req.reason else {})}
    op = audit_op(bp, who, "hold.release", f"order:{order_id}", {"status": "held"}, after)
    return json_response(
        svc.release(bootstrap.uow(), order_id, s.calendar, who.subject, bootstrap.now(), op, req.reason)
    )


@route(bp, "/admin/holds/{order_id}/reject", ("POST",), body=HoldRejection)
def reject(order_id: str):
    """Never pay a held order's commissions; the reviewer says why."""
    who = caller(bp).require("admin")
    req = parse(bp, HoldRejection)
    after = {"status": "rejected", "reason": req.reason}
    op = audit_op(bp, who, "hold.reject", f"order:{order_id}", {"status": "held"}, after)
    return json_response(svc.reject(bootstrap.uow(), order_id, who.subject, bootstrap.now(), op, req.reason))
