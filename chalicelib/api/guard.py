"""What handlers share for issue 9: the caller's hashed IP, sign-up limits, and the audit trail."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from .. import bootstrap
from ..auth import Principal
from ..config import Settings
from ..domain.errors import TooManyRequests
from ..security import keyed_hash
from ..services.audit import AuditTrail
from ..store.uow import TransactOp


def client_ip(bp: Blueprint) -> str:
    return ((bp.current_request.context or {}).get("identity") or {}).get("sourceIp") or ""


def limit_signups(bp: Blueprint, s: Settings) -> TransactOp:
    """At most `signup_limit` sign-ups from one (hashed) IP per window, across instances.
    Refuses (429) once the window is full; otherwise returns the counter's conditional ADD, which
    the caller commits in the sign-up's own transaction (a refused sign-up counts nothing, and two
    racing past the check cannot both take the last slot)."""
    now, ip = bootstrap.now(), keyed_hash(s.hash_pepper, client_ip(bp))
    window = s.signup_window_seconds
    review = bootstrap.repositories().review
    if review.hits("signup", ip, window, now) >= s.signup_limit:
        raise TooManyRequests(
            "too many sign-ups from your address; try later", retry_after=window - int(now.timestamp()) % window
        )
    return review.hit("signup", ip, s.signup_limit, window, now)


def request_id(bp: Blueprint) -> str | None:
    return (bp.current_request.context or {}).get("requestId")


def trail(bp: Blueprint) -> AuditTrail:
    """The audit trail for this request: the one writer every entry point records through."""
    return bootstrap.audit_trail(request_id(bp))


def audit_op(bp: Blueprint, who: Principal, action: str, target: str, before: Any, after: Any) -> Any:
    """The audit record as a transaction action, for services that commit it with their change."""
    return trail(bp).op(who, action, target, before, after)


def audit(bp: Blueprint, who: Principal, action: str, target: str, before: Any, after: Any) -> None:
    """Append who did what to which record, with the state before and after, after the action
    committed (for actions whose service commits several transactions of its own)."""
    trail(bp).record(who, action, target, before, after)
