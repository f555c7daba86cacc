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
    ".txt": "text/plain; charset=utf-8",
}


def _walk(root: Path) -> frozenset[str]:
    """Every file under the portal's folder that it serves, as a relative POSIX path ("js/pages/partner.js"):
    the allow-list. A requested name is looked up in this set, never joined onto a path first, so no
    name (`..`, an encoded slash, an absolute path) reaches a file outside it."""
    return frozenset(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.suffix in TYPES and p.name != "index.html" and not p.name.startswith(".")
    )


ASSETS = _walk(WEB)
# The portal's scripts come from this origin only; the API is the same origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The middleware adds the other security headers to every response; a page needs its own CSP.
PAGE_HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}


@lru_cache(maxsize=64)
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


def _asset(*parts: str) -> Response:
    name = "/".join(parts)
    if name not in ASSETS:
        raise NotFound("no such file")
    return _file(name)


# Chalice has no greedy path parameter: one route per folder depth (js/main.js, js/pages/partner.js).
@route(bp, "/app/assets/{name}")
def asset(name: str):
    return _asset(name)


@route(bp, "/app/assets/{folder}/{name}")
def asset_in_folder(folder: str, name: str):
    return _asset(folder, name)


@route(bp, "/app/assets/{folder}/{sub}/{name}")
def asset_in_subfolder(folder: str, sub: str, name: str):
    return _asset(folder, sub, name)
