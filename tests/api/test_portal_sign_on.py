"""The portal's page says where single sign-on starts only when one is configured, escaped as text."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib import bootstrap
from chalicelib.config import Settings


def page(api) -> str:
    r = api.http.get("/app")
    assert r.status_code == 200
    return r.body.decode()


def test_without_an_identity_provider_the_portal_offers_no_single_sign_on(api):
    assert "upline-sso" not in page(api) and "<!-- sso -->" not in page(api)


def test_the_portal_names_the_configured_authorize_url_and_client_escaped(api, monkeypatch):
    monkeypatch.setenv("UPLINE_SSO_AUTHORIZE_URL", 'https://auth.example.com/oauth2/authorize?x="><script>')
    monkeypatch.setenv("UPLINE_JWT_AUDIENCE", "client-from-audience")
    bootstrap.settings.cache_clear()
    try:
        html = page(api)
    finally:
        bootstrap.settings.cache_clear()
    assert '<meta name="upline-sso-authorize" content="https://auth.example.com/oauth2/authorize?x=&quot;&gt;&lt;script&gt;">' in html
    assert '<meta name="upline-sso-client" content="client-from-audience">' in html
    assert "<script>" not in html.split("</head>")[0].replace('<script src="/app/assets/', "")


def test_a_single_sign_on_url_that_is_not_https_is_refused_at_start_up():
    with pytest.raises(ValidationError):
        Settings(sso_authorize_url="http://auth.example.com/oauth2/authorize")
