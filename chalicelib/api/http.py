"""What every handler shares: the error shape, body parsing, the caller's identity."""
from __future__ import annotations

import functools
import hashlib
import json
from typing import Any, Callable, TypeVar

from chalice import Blueprint, Response
from pydantic import BaseModel, ValidationError

from .. import bootstrap
from ..auth import Principal, authenticate
from ..domain.errors import DomainError, InvalidInput, PayloadTooLarge
from ..observability import logger

M = TypeVar("M", bound=BaseModel)
JSON = "application/json"


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, default=str), status_code=status,
                    headers={"Content-Type": JSON, **(headers or {})})


def error_response(err: DomainError) -> Response:
    return json_response(error_body(err.code, err.message), err.status)


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


def route(bp: Blueprint, path: str, methods: tuple[str, ...] = ("GET",), **kwargs: Any):
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        # Any content type is accepted: the body is parsed (and refused) by us, never by Chalice.
        bp.route(path, methods=list(methods), content_types=[JSON, "text/plain", "application/octet-stream",
                                                             "application/x-www-form-urlencoded"], **kwargs)(
            handles_errors(fn))
        return fn
    return register


def raw_body(bp: Blueprint) -> bytes:
    body = bp.current_request.raw_body or b""
    if len(body) > bootstrap.settings().max_body_bytes:
        raise PayloadTooLarge("the request body is too large")
    return body


def parse(bp: Blueprint, model: type[M], body: bytes | None = None) -> M:
    body = raw_body(bp) if body is None else body
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise InvalidInput(f"{where}: {first.get('msg', 'invalid')}") from None


def fingerprint(model: BaseModel) -> str:
    """A hash of what the request means, not of its bytes: reordered keys are the same request."""
    canonical = json.dumps(model.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def caller(bp: Blueprint) -> Principal:
    return authenticate(bp.current_request.headers.get("authorization"), bootstrap.settings())


def query_int(bp: Blueprint, name: str, lo: int, hi: int) -> int | None:
    raw = (bp.current_request.query_params or {}).get(name)
    if raw is None:
        return None
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise InvalidInput(f"{name} must be a whole number from {lo} to {hi}")
    return int(raw)
