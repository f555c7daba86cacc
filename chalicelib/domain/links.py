"""Referral links: where they may point, and how a click id travels to the shop."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import InvalidInput

CLICK_PARAM = "upline_click"
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
