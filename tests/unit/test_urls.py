"""URLs parsed and built the way browsers do (WHATWG, via ada-url), in one module only."""
from __future__ import annotations

import re
from pathlib import Path

import ada_url
import pytest
from hypothesis import example, given, settings

from chalicelib.config import Settings
from chalicelib.domain import urls
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.links import CLICK_PARAM, check_destination, redirect_target, with_click_id
from tests.support.urls import ALLOWED, REPORTED, destinations

ROOT = Path(__file__).resolve().parents[2]
CLICK = "c_" + "x" * 20 + "P-AAA"


def browser_host(url: str) -> str:
    """The host a WHATWG parser sees, read with ada's own URL class, not through chalicelib."""
    return ada_url.URL(url).hostname


@pytest.mark.parametrize("destination", REPORTED)
def test_the_reported_destinations_are_refused_with_a_4xx_error_and_never_crash(destination):
    with pytest.raises(InvalidInput) as refused:
        check_destination(destination, ALLOWED)
    assert refused.value.status == 400
    assert refused.value.code in ("invalid_destination", "destination_not_allowed")


def test_a_backslash_host_is_refused_because_a_browser_goes_to_the_host_before_it():
    assert browser_host("https://evil.com\\.shop.example.com") == "evil.com"
    with pytest.raises(InvalidInput, match="evil.com is not one of"):
        check_destination("https://evil.com\\.shop.example.com", ALLOWED)


def test_destinations_are_kept_in_their_canonical_form():
    assert check_destination("HTTPS://SHOP.Example.com:443/a b?q=ü#top", ALLOWED) == \
        "https://shop.example.com/a%20b?q=%C3%BC#top"
    assert check_destination("https://shop.example.com", ALLOWED) == "https://shop.example.com/"
    assert check_destination("https://sh\u00adop.example.com/x\t", ALLOWED) == "https://shop.example.com/x"


def test_ip_literals_and_credentials_are_refused_even_when_they_spell_an_allowed_name():
    for url in ("https://127.0.0.1/", "https://[::1]/", "https://shop.example.com@evil.com/",
                "https://user:pw@shop.example.com/", "https://@shop.example.com:@evil.com/"):
        with pytest.raises(InvalidInput):
            check_destination(url, ALLOWED)


def test_the_click_id_replaces_every_forged_one_and_keeps_the_rest_of_the_query_and_fragment():
    url = with_click_id("https://shop.example.com/p?x=1&upline_click=forged&upline_click=2#top", "c_1")
    assert url == "https://shop.example.com/p?x=1&upline_click=c_1#top"


def test_a_stored_destination_that_leads_elsewhere_is_not_followed():
    # Links written before this parser existed were checked with urlsplit.
    assert redirect_target("https://evil.com\\.shop.example.com/", "https://shop.example.com/", ALLOWED) == \
        ("https://shop.example.com/", True)
    assert redirect_target("https://m.shop.example.com/x", "https://shop.example.com/", ALLOWED) == \
        ("https://m.shop.example.com/x", False)
    assert redirect_target(None, "https://shop.example.com/", ALLOWED) == ("https://shop.example.com/", False)


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(destination=destinations())
@example("https://evil.com\\.shop.example.com")
@example("https://evil.com\uff3c.shop.example.com/")
@example("https:\\\\evil.com\\@shop.example.com/")
def test_whatever_host_a_whatwg_parser_sees_is_allowed_or_the_link_is_refused(destination):
    try:
        stored = check_destination(destination, ALLOWED)
    except InvalidInput as refused:
        assert refused.status == 400
        return
    # What the partner typed, what is stored, and what the redirect sends all lead to an allowed host.
    for url in (destination, stored, with_click_id(stored, CLICK)):
        host = browser_host(url)
        assert urls.within(host, ALLOWED), (destination, url, host)
        parsed = ada_url.URL(url)
        assert parsed.protocol == "https:" and not parsed.username and not parsed.password
    location = with_click_id(stored, CLICK)
    assert location.isascii() and not re.search(r"[\x00-\x20\x7f]", location)
    assert ada_url.URLSearchParams(ada_url.URL(location).search).get_all(CLICK_PARAM) == [CLICK]
    assert check_destination(stored, ALLOWED) == stored  # canonical is a fixed point


def test_allowed_domains_cors_origins_and_the_keys_url_are_read_by_the_same_parser():
    s = Settings.from_env({"UPLINE_ALLOWED_DOMAINS": "Shop.Example.COM,b\u00fccher.example",
                           "UPLINE_DEFAULT_DESTINATION": "https://SHOP.example.com",
                           "UPLINE_CORS_ORIGINS": "https://Portal.Example.com:443/",
                           "UPLINE_JWT_JWKS_URL": "https://cognito-idp.example.com/p/.well-known/jwks.json"})
    assert s.allowed_domains == ["shop.example.com", "xn--bcher-kva.example"]
    assert s.default_destination == "https://shop.example.com/"
    assert s.cors_origins == ["https://portal.example.com"]
    for env in ({"UPLINE_DEFAULT_DESTINATION": "https://evil.com\\.shop.example.com/"},
                {"UPLINE_JWT_JWKS_URL": "http://keys.example.com/jwks.json"},
                {"UPLINE_JWT_JWKS_URL": "https://user:pw@keys.example.com/"},
                {"UPLINE_CORS_ORIGINS": "https://portal.example.com/app"},
                {"UPLINE_ALLOWED_DOMAINS": "evil.com\\.shop.example.com"},
                {"UPLINE_ALLOWED_DOMAINS": "127.0.0.1"}):
        with pytest.raises(ValueError):
            Settings.from_env(env)


URL_PARSERS = re.compile(r"^\s*(from|import)\s+(urllib\.parse|urllib3|yarl|furl|rfc3986|hyperlink|ada_url|can_ada)\b"
                         r"|^\s*from\s+urllib\s+import\s+parse\b|\burlsplit\(|\burlparse\(", re.M)


def test_one_module_is_the_only_place_urls_are_parsed():
    offenders = []
    for folder in ("chalicelib", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "chalicelib" / "domain" / "urls.py":
                continue
            if URL_PARSERS.search(path.read_text()):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
