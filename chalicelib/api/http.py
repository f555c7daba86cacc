"""What every handler shares: the error shape, body parsing, the caller's identity."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from chalice import Blueprint, Response
from pydantic import BaseModel, ValidationError

from .. import bootstrap
from ..auth import Principal, authenticate
from ..domain.errors import DomainError, InvalidInput, PayloadTooLarge
from ..observability import logger
from ..security import SIGNATURE_HEADER, TIMESTAMP_HEADER
from . import access

M = TypeVar("M", bound=BaseModel)
JSON = "application/json"


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, default=str), status_code=status, headers={"Content-Type": JSON, **(headers or {})}
    )


def error_response(err: DomainError) -> Response:
    retry = getattr(err, "retry_after", None)
    return json_response(error_body(err.code, err.message), err.status, {"Retry-After": str(retry)} if retry else None)


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Domain errors become their 4xx; anything else is logged and becomes a bare 500."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DomainError as e:
            return error_response(e)
        except Exception:
            logger.exception("unhandled error")
            return json_response(error_body("internal_error", "something went wrong on our side"), 500)

    return wrapper


# The request body each route takes, declared where the route is: the OpenAPI document reads it
# (api/openapi.py), and `parse` refuses to read a body a route did not declare, so a body cannot be
# left out of the document (and so out of the schema fuzz).
BODIES: dict[tuple[str, str], type[BaseModel]] = {}


def route(
    bp: Blueprint, path: str, methods: tuple[str, ...] = ("GET",), body: type[BaseModel] | None = None, **kwargs: Any
):
    """Register `fn` behind the authorization matrix (api/access.py) and the error mapping; `body`
    is the pydantic model of the request body the handler parses, if it takes one."""
    if body is not None:
        for method in methods:
            BODIES[(method, path)] = body

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def admitted(*args: Any, **kw: Any) -> Any:
            rule = access.rule_for(bp.current_request.method, path)
            if rule is None or not rule.public:  # a public route ignores whatever token it is sent
                role = _role_of(bp)
                admitted_rule = access.admit(rule, role)
                if role is not None and role in access.STANDING:
                    who = caller(bp)
                    access.admit_owner(admitted_rule, role, own_id(who, admitted_rule.owner), kw)
                    access.admit_standing(admitted_rule, role, account_status(bp))
            return fn(*args, **kw)

        # Any content type is accepted: the body is parsed (and refused) by us, never by Chalice.
        bp.route(path, methods=list(methods), content_types=CONTENT_TYPES, **kwargs)(handles_errors(admitted))
        if path not in PREFLIGHT_PATHS:  # one OPTIONS per path, whichever blueprint registers it first
            PREFLIGHT_PATHS.add(path)
            bp.route(path, methods=["OPTIONS"], content_types=CONTENT_TYPES)(_preflight_view(path))
        return fn

    return register


CONTENT_TYPES = [JSON, "text/plain", "application/octet-stream", "application/x-www-form-urlencoded"]
PREFLIGHT_PATHS: set[str] = set()


def _preflight_view(path: str) -> Callable[..., Any]:
    """A CORS preflight: 204 with no body. The middleware adds the CORS headers, and only for an
    allow-listed origin, so any other origin's browser refuses the real request."""

    def preflight(*_: Any, **__: Any) -> Response:
        return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})

    preflight.__name__ = "preflight_" + "".join(ch if ch.isalnum() else "_" for ch in path).strip("_")
    return preflight


def _role_of(bp: Blueprint) -> str | None:
    """The caller's role for the matrix: a token's role, else `webhook` for a request carrying the
    shop's signature headers (the handler verifies the signature itself), else None."""
    headers = bp.current_request.headers
    if headers.get("authorization"):
        return caller(bp).role
    if headers.get(SIGNATURE_HEADER) or headers.get(TIMESTAMP_HEADER):
        return access.WEBHOOK
    return None


def own_id(who: Principal, owner: str | None) -> str | None:
    """The id a partner's or member's token names for the path parameter `owner` names."""
    return {"partner_id": who.partner_id, "member_id": who.member_id}.get(owner or "")


def account_status(bp: Blueprint) -> str | None:
    """The status of the account a partner's or member's token names, as stored (None: no such
    account; members have none, so an existing one is `registered`). One read, once per request."""
    memo = vars(bp.current_request)  # Chalice makes a new Request for every request
    if "_upline_account" not in memo:
        who = caller(bp)
        status = None
        # An id no account could have (too long for a key, say) is no account: never a read, never a 500.
        if who.role == access.PARTNER and who.partner_id and ACCOUNT_ID.match(who.partner_id):
            status = bootstrap.repositories().accounts.partner_status(who.partner_id, bootstrap.now())
        elif who.role == access.MEMBER and who.member_id and ACCOUNT_ID.match(who.member_id):
            status = access.REGISTERED if bootstrap.uow().members.exists(who.member_id) else None
        memo["_upline_account"] = status
    return memo["_upline_account"]


ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def raw_body(bp: Blueprint) -> bytes:
    body = bp.current_request.raw_body or b""
    if isinstance(body, str):  # Chalice's type says str or bytes; it encodes a text body itself
        body = body.encode()
    if len(body) > bootstrap.settings().max_body_bytes:
        raise PayloadTooLarge("the request body is too large")
    return body


def parse(bp: Blueprint, model: type[M], body: bytes | None = None) -> M:
    request = bp.current_request
    declared = BODIES.get((request.method, (request.context or {}).get("resourcePath", "")))
    if declared is not model:
        raise RuntimeError(
            f"{request.method} {(request.context or {}).get('resourcePath')} parses "
            f"{model.__name__} but its @route declares body={getattr(declared, '__name__', None)}"
        )
    body = raw_body(bp) if body is None else body
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise InvalidInput(f"{where}: {first.get('msg', 'invalid')}") from None


# Optional fields added to request bodies after launch: absent, they hash as before they existed.
LATER_OPTIONAL_FIELDS = ("email", "phone", "payment_fingerprint", "coupon_code")


def fingerprint(model: BaseModel) -> str:
    """A hash of what the request means, not of its bytes: reordered keys are the same request."""
    body = model.model_dump(mode="json")
    for optional in LATER_OPTIONAL_FIELDS:  # so stored retries still match
        if body.get(optional) is None:
            body.pop(optional, None)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def caller(bp: Blueprint) -> Principal:
    """The verified caller, decoded once per request."""
    request = bp.current_request
    memo = vars(request)  # Chalice makes a new Request for every request
    who = memo.get("_upline_principal")
    if who is None:
        who = memo["_upline_principal"] = authenticate(request.headers.get("authorization"), bootstrap.settings())
    return who


def query(bp: Blueprint, name: str) -> str | None:
    """A query string parameter (the last, if it is given more than once), or None."""
    params = bp.current_request.query_params
    return params.get(name) if params else None


def query_int(bp: Blueprint, name: str, lo: int, hi: int) -> int | None:
    raw = query(bp, name)
    if raw is None:
        return None
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise InvalidInput(f"{name} must be a whole number from {lo} to {hi}")
    return int(raw)
