"""Referral links: where they may point, and how a click id travels to the shop."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from . import urls
from .errors import DomainError, InvalidInput, TooManyRequests, Unprocessable

CLICK_PARAM = "upline_click"
# A click id is "c_", 20 random url-safe characters, then the id of the partner the link belongs
# to. The partner part is only a hint that lets an order read the partner in its first batch read;
# the stored click item, not the id, decides the attribution.
CLICK_PREFIX, CLICK_TOKEN_CHARS = "c_", 20
# The kinds of code, in one namespace: a partner's referral code, a link's code, a partner's coupon code.
PARTNER, LINK, COUPON = "partner", "link", "coupon"


@dataclass(frozen=True)
class CodeRef:
    """What a code in /r/{code} or an order's referral_code points at. Immutable once written."""

    code: str
    kind: str
    partner_id: str
    destination: str | None = None
    # The partner's ancestors when the code was made: a read hint only (an order reads them at once).
    upline_hint: tuple[str, ...] = field(default=(), compare=False)


def check_destination(url: str, allowed_domains: Iterable[str]) -> str:
    """Only https URLs whose host, as a browser reads it, is one of the program's own domains (or
    a subdomain of one): no open redirect. Returns the canonical form, which is what is stored and
    what the redirect sends, so the URL checked is exactly the URL followed."""
    try:
        parsed = urls.https_url(url)
    except urls.InvalidUrl as e:
        raise InvalidInput(f"destination {e}", code="invalid_destination") from None
    if parsed.host_kind != urls.DOMAIN or not urls.within(parsed.host, allowed_domains):
        raise InvalidInput(f"{parsed.host} is not one of the program's domains", code="destination_not_allowed")
    return parsed.href


def redirect_target(stored: str | None, default_destination: str, allowed_domains: Iterable[str]) -> tuple[str, bool]:
    """Where a click goes, and whether the link's own destination was refused: a destination is
    checked again as it is followed, since links written before destinations were parsed the way a
    browser parses them can hold one that leads elsewhere (`https://evil.com\\.shop.example.com`)."""
    if not stored:
        return default_destination, False
    try:
        return check_destination(stored, allowed_domains), False
    except InvalidInput:
        return default_destination, True


def with_click_id(destination: str, click_id: str) -> str:
    return urls.with_param(destination, CLICK_PARAM, click_id)


def new_click_id(token: str, partner_id: str) -> str:
    if len(token) != CLICK_TOKEN_CHARS:
        raise ValueError(f"a click token has {CLICK_TOKEN_CHARS} characters")
    return f"{CLICK_PREFIX}{token}{partner_id}"


def partner_hint(click_id: str | None) -> str | None:
    """The partner a click id names, if it names one (older click ids do not). Untrusted."""
    head = len(CLICK_PREFIX) + CLICK_TOKEN_CHARS
    if not click_id or not click_id.startswith(CLICK_PREFIX) or len(click_id) <= head:
        return None
    return click_id[head:]


@dataclass(frozen=True)
class LinkLimits:
    """How many links one partner may create: `total` in all, and `per_window` in each fixed window
    of `window_seconds` (a burst of creations is refused long before the total is reached)."""

    total: int
    per_window: int
    window_seconds: int

    def window(self, now: datetime) -> int:
        return int(now.timestamp()) // self.window_seconds

    def refusal(self, created: int, in_window: int, now: datetime) -> DomainError | None:
        """Why one more link is refused, given the counts so far; None if it is not."""
        if created >= self.total:
            return Unprocessable(f"a partner may create at most {self.total} links", code="link_limit_reached")
        if in_window >= self.per_window:
            retry = (self.window(now) + 1) * self.window_seconds - int(now.timestamp())
            return TooManyRequests(
                f"at most {self.per_window} new links per {self.window_seconds // 60} minutes; try later",
                code="link_rate_limited",
                retry_after=retry,
            )
        return None
