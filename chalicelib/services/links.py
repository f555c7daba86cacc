"""Create referral links and follow them."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from ..domain import urls
from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict, NotFound, TooManyRequests
from ..domain.links import (
    CLICK_TOKEN_CHARS,
    COUPON,
    LINK,
    CodeRef,
    LinkLimits,
    check_destination,
    new_click_id,
    redirect_target,
    with_click_id,
)
from ..domain.partners import check_code
from ..observability import logger, metrics
from ..security import keyed_hash
from ..store.uow import UnitOfWork


def create_link(
    uow: UnitOfWork,
    partner_id: str,
    destination: str,
    code: str | None,
    allowed_domains: frozenset[str],
    now: datetime,
    limits: LinkLimits,
) -> CodeRef:
    """A new link for the partner, within its limits (422 past the total, 429 past the rate). Who
    may create one at all (an existing partner whose status allows it) is decided before, by the
    authorization layer. The code is the claim; the partner's two link counters move with it, only
    while both are under their limits, so a refused or repeated link counts nothing."""
    destination = check_destination(destination, allowed_domains)
    partner = uow.partners.get(partner_id)
    ref = CodeRef(
        check_code(code) if code else secrets.token_hex(4).upper(),
        LINK,
        partner_id,
        destination,
        partner.upline_ids if partner else (),
    )
    uow.claim(uow.links.new(ref, now))
    uow.add(
        uow.links.counted(partner_id, limits.total),
        uow.review.hit("link", partner_id, limits.per_window, limits.window_seconds, now),
    )
    try:
        uow.commit()
    except AlreadyExists:
        existing = uow.links.resolve(ref.code)
        if existing == ref:  # a retry of the same request
            return ref
        raise Conflict(f"the code {ref.code} is already in use", code="code_taken") from None
    except ConcurrentUpdate:
        counts = (uow.links.count_of(partner_id), uow.review.hits("link", partner_id, limits.window_seconds, now))
        refusal = limits.refusal(*counts, now)
        # No limit reached on a re-read: a window rolled over in between; the caller may simply retry.
        raise refusal or Conflict("the link could not be created just now; try again", code="try_again") from None
    return ref


def follow(
    uow: UnitOfWork,
    code: str,
    ip_hash: str,
    ua_hash: str,
    default_destination: str,
    now: datetime,
    click_ttl: timedelta,
    pepper: str = "",
    limit: int | None = None,
    window_seconds: int = 3600,
    allowed_domains: Iterable[str] | None = None,
) -> tuple[str, str]:
    """Record a click and say where to send the visitor: (location, click_id).

    The hot path: the code is read once per warm process (codes never change) and the click is one
    conditional UpdateItem on an item named by (visitor, link, window), which de-duplicates the
    visitor's repeat clicks and limits a flood from one IP on one link (TooManyRequests).
    `allowed_domains` defaults to the default destination's own domain."""
    ref = uow.links.resolve(code) if 1 <= len(code) <= 32 else None
    if ref is None or ref.kind == COUPON:  # a coupon code is typed at a checkout, not followed
        raise NotFound("no such link")
    window = int(now.timestamp()) // window_seconds
    # The same visitor on the same link in the same window is the same click (de-duplicated and
    # counted by one write); the id ends with the partner's id, so the order it leads to can read
    # that partner in its first batch read.
    token = keyed_hash(pepper, f"{ip_hash}|{ref.code}|{window}")[:CLICK_TOKEN_CHARS]
    click_id = new_click_id(token, ref.partner_id)
    if not uow.write(uow.links.click(click_id, ref, ip_hash, ua_hash, now, click_ttl, limit)):
        retry = (window + 1) * window_seconds - int(now.timestamp())
        raise TooManyRequests("too many clicks on this link from your address; try later", retry_after=retry)
    if allowed_domains is None:
        allowed_domains = (urls.parse(default_destination).host,)
    target, refused = redirect_target(ref.destination, default_destination, allowed_domains)
    if refused:
        logger.error(
            "a stored link destination is off the allow-list; sent to the default destination",
            extra={"code": ref.code, "partner_id": ref.partner_id},
        )
        metrics.add_metric(name="LinkDestinationRefused", unit="Count", value=1)
    return with_click_id(target, click_id), click_id
