"""Referral links: where they may point, and how a click id travels to the shop."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import DomainError, InvalidInput, TooManyRequests, Unprocessable

CLICK_PARAM = "upline_click"
# A click id is "c_", 20 random url-safe characters, then the id of the partner the link belongs
# to. The partner part is only a hint that lets an order read the partner in its first batch read;
# the stored click item, not the id, decides the attribution.
CLICK_PREFIX, CLICK_TOKEN_CHARS = "c_", 20
PARTNER, LINK = "partner", "link"


@dataclass(frozen=True)
class CodeRef:
    """What a code in /r/{code} or an order's referral_code points at. Immutable once written."""
    code: str
    kind: str
    partner_id: str
    destination: str | None = None


def check_destination(url: str, allowed_domains: frozenset[str]) -> str:
    """Only https URLs on the program's own domains (or their subdomains): no open redirect."""
    if len(url) > 2048:
        raise InvalidInput("destination is too long", code="invalid_destination")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host or parts.username or parts.password:
        raise InvalidInput("destination must be an https URL without credentials", code="invalid_destination")
    if not any(host == d or host.endswith("." + d) for d in allowed_domains):
        raise InvalidInput(f"{host} is not one of the program's domains", code="destination_not_allowed")
    return url


def with_click_id(destination: str, click_id: str) -> str:
    parts = urlsplit(destination)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != CLICK_PARAM]
    query.append((CLICK_PARAM, click_id))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


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
            return TooManyRequests(f"at most {self.per_window} new links per {self.window_seconds // 60} minutes; "
                                   "try later", code="link_rate_limited", retry_after=retry)
        return None
