"""The web portal: static pages served by the same app (no separate front end to deploy)."""

from __future__ import annotations

from functools import lru_cache
from html import escape
from pathlib import Path

from chalice import Blueprint, Response

from .. import bootstrap
from ..domain.errors import NotFound
from .http import route

bp = Blueprint(__name__)

WEB = Path(__file__).resolve().parents[1] / "web"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
ASSETS = frozenset({"app.js", "app.css", "i18n.js"})
# The portal's scripts come from this origin only; the API is the same origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The middleware adds the other security headers to every response; a page needs its own CSP.
PAGE_HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}


@lru_cache(maxsize=8)
def _read(name: str) -> str:
    return (WEB / name).read_text(encoding="utf-8")


def _file(name: str) -> Response:
    return Response(
        body=_read(name), status_code=200, headers={"Content-Type": TYPES[Path(name).suffix], **PAGE_HEADERS}
    )


@route(bp, "/")
def root():
    return Response(body="", status_code=302, headers={"Location": "/app", **PAGE_HEADERS})


@route(bp, "/app")
def index():
    """The portal's page, with where its single sign-on starts (if one is configured)."""
    s = bootstrap.settings()
    sso = ""
    if s.sso_authorize_url:
        client = s.sso_client_id or s.jwt_audience or ""
        sso = (
            f'<meta name="upline-sso-authorize" content="{escape(s.sso_authorize_url)}">'
            f'<meta name="upline-sso-client" content="{escape(client)}">'
        )
    return Response(
        body=_read("index.html").replace("<!-- sso -->", sso),
        status_code=200,
        headers={"Content-Type": TYPES[".html"], **PAGE_HEADERS},
    )


@route(bp, "/app/assets/{name}")
def asset(name: str):
    if name not in ASSETS:
        raise NotFound("no such file")
    return _file(name)
