"""URLs as a browser reads them: the only place in Upline that parses or builds one.

Parsing and serialization follow the WHATWG URL standard (the `ada-url` package, the parser Node.js
uses), because that is what a browser does with a `Location` header. Python's `urllib.parse`
follows RFC 3986 and disagrees with browsers exactly where an open redirect hides: it reads
`https://evil.com\\.shop.example.com` as a host ending in the shop's domain, where a browser
goes to evil.com. Everything that stores, compares or redirects to a URL goes through here and
keeps the canonical serialization (`href`), so what is checked is byte for byte what is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ada_url import HostType, URLSearchParams, join_url, parse_url, replace_url

MAX_LENGTH = 2048
DOMAIN, IPV4, IPV6 = "domain", "ipv4", "ipv6"
_HOST_KINDS = {HostType.DEFAULT: DOMAIN, HostType.IPV4: IPV4, HostType.IPV6: IPV6}
_ATTRIBUTES = (
    "href",
    "protocol",
    "username",
    "password",
    "hostname",
    "port",
    "pathname",
    "search",
    "hash",
    "origin",
    "host_type",
)


class InvalidUrl(ValueError):
    """Not a URL a browser would follow, or not one this use allows."""


@dataclass(frozen=True)
class WebUrl:
    href: str  # the canonical serialization: ASCII, punycode host, default port dropped
    scheme: str  # "https", without the colon
    host: str  # as the browser resolves it: lower-case ASCII domain, IPv4 dotted, [IPv6]
    host_kind: str  # DOMAIN, IPV4 or IPV6
    port: str  # "" for the scheme's default
    credentials: bool  # a user name or password is present
    origin: str  # scheme://host[:port], as a browser sends it in `Origin`
    path: str
    query: str  # with its "?", or ""
    fragment: str  # with its "#", or ""


def parse(text: str) -> WebUrl:
    """The URL as a browser sees it; InvalidUrl where a browser would refuse it."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        raise InvalidUrl(f"a URL has at most {MAX_LENGTH} characters")
    try:
        p = parse_url(text, attributes=_ATTRIBUTES)
    except ValueError:
        raise InvalidUrl("not a URL a browser would follow") from None
    href = str(p["href"])
    if len(href) > MAX_LENGTH:  # percent-encoding and punycode can lengthen it
        raise InvalidUrl(f"a URL has at most {MAX_LENGTH} characters")
    return WebUrl(
        href=href,
        scheme=str(p["protocol"]).rstrip(":"),
        host=str(p["hostname"]),
        host_kind=_HOST_KINDS.get(p["host_type"], DOMAIN),
        port=str(p["port"]),
        credentials=bool(p["username"] or p["password"]),
        origin=str(p["origin"]),
        path=str(p["pathname"]),
        query=str(p["search"]),
        fragment=str(p["hash"]),
    )


def https_url(text: str) -> WebUrl:
    """An https URL with a named host and no credentials (what a redirect or a key fetch may use)."""
    url = parse(text)
    if url.scheme != "https" or not url.host:
        raise InvalidUrl("must be an https URL")
    if url.credentials:
        raise InvalidUrl("must not carry a user name or password")
    return url


def domain_name(text: str) -> str:
    """A domain as the allow-list keeps it: what a browser would resolve (IDNA to ASCII, lower
    case), so `Shop.Example.COM` and `bücher.example` compare with parsed hosts exactly."""
    url = parse(f"https://{text.strip()}/")
    if (
        url.host_kind != DOMAIN
        or url.path != "/"
        or url.query
        or url.fragment
        or url.port
        or url.credentials
        or url.host.endswith(".")
        or "." not in url.host
    ):
        raise InvalidUrl(f"{text!r} is not a domain name")
    return url.host


def within(host: str, domains: Iterable[str]) -> bool:
    """`host` is one of `domains` or a subdomain of one (hosts and domains as parse and
    domain_name give them)."""
    return any(host == d or host.endswith("." + d) for d in domains)


def origin(text: str) -> str:
    """An exact web origin (for CORS), serialized as a browser sends it in `Origin`."""
    url = parse(text)
    if (
        url.scheme not in ("https", "http")
        or not url.host
        or url.credentials
        or url.query
        or url.fragment
        or url.path != "/"
    ):
        raise InvalidUrl(f"{text!r} is not an origin (scheme://host[:port])")
    return url.origin


def with_param(href: str, name: str, value: str) -> str:
    """`href` with the query parameter `name` set to `value` (any earlier ones removed), the way a
    browser's URLSearchParams rewrites a query."""
    url = parse(href)
    params = URLSearchParams(url.query)
    params.delete(name)
    params.append(name, value)
    query = str(params)
    result = replace_url(url.href, search=query) if query else url.href
    if len(result) > MAX_LENGTH:
        raise InvalidUrl(f"a URL has at most {MAX_LENGTH} characters")
    return result


def query_param(text: str, name: str, *, base: str = "https://relative.invalid/") -> str | None:
    """The first value of the query parameter `name`, as a browser's URLSearchParams reads it, in
    `text` resolved against `base` (so a path such as Shopify's recorded landing page
    "/products/x?upline_click=..." reads too). None when absent or when `text` is no URL."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        return None
    try:
        url = parse(join_url(base, text))
    except (ValueError, InvalidUrl):
        return None
    params = URLSearchParams(url.query)
    return params.get(name) if params.has(name) else None
