"""Referral links, and the redirect that records a click."""

from __future__ import annotations

from chalice import Blueprint, Response

from .. import bootstrap
from ..domain.errors import Forbidden
from ..security import keyed_hash
from ..services import links as svc
from .http import caller, json_response, parse, route
from .schemas import CreateLink

bp = Blueprint(__name__)

COOKIE = "upline_click"


@route(bp, "/links", ("POST",), body=CreateLink)
def create():
    who = caller(bp).require("partner")
    if not who.partner_id:
        raise Forbidden("this token names no partner")
    req = parse(bp, CreateLink)
    s = bootstrap.settings()
    ref = svc.create_link(
        bootstrap.uow(),
        who.partner_id,
        req.destination,
        req.code,
        frozenset(s.allowed_domains),
        bootstrap.now(),
        s.link_limits,
    )
    return json_response(
        {"code": ref.code, "destination": ref.destination, "partner_id": ref.partner_id, "url": f"/r/{ref.code}"}, 201
    )


@route(bp, "/r/{code}")
def follow(code: str):
    req = bp.current_request
    s = bootstrap.settings()
    ip = ((req.context or {}).get("identity") or {}).get("sourceIp") or ""
    ua = req.headers.get("user-agent", "")[:512]
    location, click_id = svc.follow(
        bootstrap.uow(),
        code,
        keyed_hash(s.hash_pepper, ip),
        keyed_hash(s.hash_pepper, ua),
        s.default_destination,
        bootstrap.now(),
        s.click_ttl,
        pepper=s.hash_pepper,
        limit=s.click_limit,
        window_seconds=s.click_window_seconds,
        allowed_domains=s.allowed_domains,
    )
    max_age = int(s.attribution_window.total_seconds())
    return Response(
        body="",
        status_code=302,
        headers={
            "Location": location,
            "Set-Cookie": f"{COOKIE}={click_id}; Max-Age={max_age}; Path=/; HttpOnly; Secure; SameSite=Lax",
            "Cache-Control": "no-store",
        },
    )
