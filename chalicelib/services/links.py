"""Create referral links and follow them."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from ..domain.errors import AlreadyExists, Conflict, NotFound
from ..domain.links import LINK, CodeRef, check_destination, new_click_id, with_click_id
from ..domain.partners import check_code
from ..store.repository import Repository


def create_link(repo: Repository, partner_id: str, destination: str, code: str | None,
                allowed_domains: frozenset[str], now: datetime) -> CodeRef:
    destination = check_destination(destination, allowed_domains)
    ref = CodeRef(check_code(code) if code else secrets.token_hex(4).upper(), LINK, partner_id, destination)
    try:
        repo.create_link(ref, now)
    except AlreadyExists:
        existing = repo.resolve_code(ref.code)
        if existing == ref:  # a retry of the same request
            return ref
        raise Conflict(f"the code {ref.code} is already in use", code="code_taken") from None
    return ref


def follow(repo: Repository, code: str, ip_hash: str, ua_hash: str, default_destination: str,
           now: datetime, click_ttl: timedelta) -> tuple[str, str]:
    """Record a click and say where to send the visitor: (location, click_id).

    The hot path: the code is read once per warm process (codes never change) and the click
    is one PutItem."""
    ref = repo.resolve_code(code) if 1 <= len(code) <= 32 else None
    if ref is None:
        raise NotFound("no such link")
    click_id = new_click_id(secrets.token_urlsafe(15), ref.partner_id)
    repo.record_click(click_id, ref, ip_hash, ua_hash, now, click_ttl)
    return with_click_id(ref.destination or default_destination, click_id), click_id
