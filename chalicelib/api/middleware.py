"""Request-wide concerns: correlation ids in logs, metrics flushing, one error shape."""

from __future__ import annotations

import gc
import json
import re
import time
import uuid

from chalice import Chalice, Response

from .. import bootstrap
from ..observability import flush_metrics, logger
from ..store.uow import write_deadline
from .http import error_body


def install(app: Chalice) -> None:
    @app.middleware("http")
    def observe(event, get_response):
        headers = event.headers or {}
        correlation_id = headers.get("x-correlation-id") or (event.context or {}).get("requestId") or str(uuid.uuid4())
        logger.set_correlation_id(correlation_id)
        try:
            # No write of this request may be sent after its deadline (store/uow.write_deadline).
            with write_deadline(time.monotonic() + bootstrap.settings().max_request_seconds):
                response = _uniform_errors(get_response(event))
        except Exception:  # whatever failed, the client still gets the error shape and the headers
            logger.exception("unhandled error outside a handler")
            response = Response(
                body=error_body("internal_error", "something went wrong on our side"),
                status_code=500,
                headers={"Content-Type": "application/json"},
            )
        finally:
            flush_metrics()
        response.headers["X-Correlation-Id"] = correlation_id
        _protect(response, headers.get("origin"))
        logger.info("request", extra={"method": event.method, "path": event.path, "status": response.status_code})
        freeze_once()
        return response


_frozen = False


def freeze_once() -> None:
    """After the first request, what the process has built (modules, the boto3 client and its
    service model, settings) lives as long as the process: move it out of the garbage collector's
    way. Otherwise every full collection walks those ~85,000 objects, a 70-240 ms pause every few
    hundred orders on a loaded machine (see docs/performance.md)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


def chalice_code(name: str) -> str:
    """Chalice's error class names as house codes: MethodNotAllowedError -> method_not_allowed."""
    name = name[:-5] if name.endswith("Error") and name != "Error" else name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _uniform_errors(response: Response) -> Response:
    """Chalice's own refusals ({"Code", "Message"}: an unsupported method or media type when the
    Lambda is invoked directly, a view error) are rewritten into the house error shape."""
    body = response.body
    if isinstance(body, (str, bytes)) and response.status_code >= 400:
        try:
            body = json.loads(body)
        except ValueError:
            return response
    if isinstance(body, dict) and "Code" in body and "Message" in body:
        code = "internal_error" if response.status_code >= 500 else chalice_code(str(body["Code"]))
        return Response(
            body=error_body(code, str(body["Message"])),
            status_code=response.status_code,
            headers={**response.headers, "Content-Type": "application/json"},
        )
    return response


# Sent on every response, JSON or not: a browser must never frame it, sniff a type, leak the
# referrer or downgrade to plain HTTP. A response that sets its own CSP (the portal's pages) keeps it.
SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


def _protect(response: Response, origin: str | None) -> None:
    """Security headers, and CORS for allow-listed origins only (never a wildcard)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Vary"] = "Origin"
    if origin and origin in _cors_origins():
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-Correlation-Id"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT"
        response.headers["Access-Control-Max-Age"] = "600"


def _cors_origins() -> list[str]:
    try:
        return bootstrap.settings().cors_origins
    except Exception:  # settings that do not load already answer 500; no CORS for that answer either
        return []
