"""The OpenAPI 3.1 description of this API, built from the authorization matrix (every route, who
may call it) and the pydantic request and response models. Served at GET /openapi.json."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from chalice import Blueprint
from pydantic import BaseModel

from ..domain.members import MEMBER_ID_RE
from ..domain.periods import PERIOD_RE
from . import access
from . import schemas as m
from .http import BODIES, PREFLIGHT_PATHS, json_response, route

bp = Blueprint(__name__)

# What each route accepts: the body model its @route declares (api/http.py), the same dict, so a
# route cannot take a body the document does not describe.
REQUESTS: dict[tuple[str, str], type[BaseModel]] = BODIES
RESPONSES: dict[tuple[str, str], tuple[int, type[BaseModel] | None]] = {
    ("GET", "/health"): (200, m.HealthOut),
    ("GET", "/me"): (200, m.MeOut),
    ("POST", "/partners"): (201, m.PartnerOut),
    ("GET", "/partners/{partner_id}"): (200, m.PartnerOut),
    ("POST", "/admin/partners/{partner_id}/move"): (200, m.PartnerOut),
    ("POST", "/admin/partners/{partner_id}/status"): (200, m.PartnerOut),
    ("POST", "/links"): (201, m.LinkOut),
    ("POST", "/webhooks/orders"): (201, m.OrderResultOut),
    ("POST", "/webhooks/refunds"): (201, m.RefundResultOut),
    ("POST", "/admin/plans"): (201, None),
    ("POST", "/admin/plans/preview"): (200, m.PlanPreviewOut),
    ("GET", "/admin/audit"): (200, m.AuditOut),
    ("GET", "/admin/holds"): (200, m.HoldsOut),
    ("POST", "/admin/webhooks/endpoints"): (201, m.EndpointOut),
    ("GET", "/admin/webhooks/endpoints"): (200, m.EndpointsOut),
    ("DELETE", "/admin/webhooks/endpoints/{endpoint_id}"): (200, m.EndpointOut),
    ("GET", "/admin/webhooks/endpoints/{endpoint_id}/deliveries"): (200, m.DeliveriesOut),
    ("POST", "/admin/webhooks/deliveries/{delivery_id}/replay"): (200, m.DeliveryOut),
    ("GET", "/r/{code}"): (302, None),
    ("GET", "/i/{code}"): (302, None),
    ("POST", "/webhooks/members"): (201, None),
    ("POST", "/members/{member_id}/redemptions"): (201, None),
    ("POST", "/admin/reward-programs"): (201, None),
    ("POST", "/settlements/{period}/payouts/{partner_id}/{currency}/failed"): (200, m.BounceOut),
    ("POST", "/settlements/{period}/payouts/{partner_id}/{currency}/failed/confirm"): (200, m.BounceOut),
    ("POST", "/settlements/{period}/payouts/{partner_id}/{currency}/failed/dismiss"): (200, m.BounceOut),
}
# A retried POST that found its first result answers 200 with the same body.
REPLAYS = {
    ("POST", "/partners"),
    ("POST", "/admin/webhooks/endpoints"),
    ("POST", "/webhooks/orders"),
    ("POST", "/webhooks/refunds"),
    ("POST", "/webhooks/members"),
    ("POST", "/members/{member_id}/redemptions"),
}
ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
# Path parameters as the handlers check them (the period and member id from the same patterns), so
# generated requests get past the path and reach the body.
PATH_PARAMS = {
    "code": r"^[A-Za-z0-9_-]{1,32}$",
    "period": PERIOD_RE.pattern,
    "name": r"^[a-z]{1,16}$",
    "currency": r"^[A-Z]{3}$",
    "kpi": r"^[a-z]{1,16}$",
    "member_id": MEMBER_ID_RE.pattern,
}
ERRORS = (400, 401, 403, 404, 409, 413, 422, 429)
TEXT = {
    ("GET", "/settlements/{period}/exports/{name}/content"),
    ("GET", "/admin/compliance/report"),
    ("GET", "/admin/analytics/{kpi}/csv"),
}


def _ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _security(rule: access.Rule) -> list[dict[str, list]]:
    if rule.public:
        return []
    out: list[dict[str, list]] = []
    if any(r in rule.allowed for r in access.TOKEN_ROLES):
        out.append({"bearer": []})
    if rule.signed:
        out.append({"signature": [], "timestamp": []})
    return out


def _operation(method: str, path: str, rule: access.Rule, components: dict[str, Any]) -> dict[str, Any]:
    key = (method, path)
    roles = ", ".join(f"{r} ({scope})" for r, scope in rule.allowed.items())
    op: dict[str, Any] = {
        "operationId": re.sub(r"[^A-Za-z0-9]+", "_", f"{method.lower()}{path}").strip("_"),
        "summary": rule.summary,
        "description": f"Who: {roles}.",
        "security": _security(rule),
        "parameters": [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string", "pattern": PATH_PARAMS.get(p, ID)}}
            for p in re.findall(r"{(\w+)}", path)
        ],
        "responses": {},
    }
    if key in REQUESTS:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(REQUESTS[key], components)}},
        }
    status, model = RESPONSES.get(key, (200, None))
    if status == 302:
        op["responses"]["302"] = {
            "description": "a redirect: a link's destination with the click id (/r), "
            "or the shop's sign-up with the invite code (/i)",
            "headers": {"Location": {"schema": {"type": "string"}}},
        }
    elif key in TEXT:
        op["responses"]["200"] = {
            "description": "the file",
            "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {}},
        }
    else:
        body = _ref(model, components) if model else {"type": "object"}
        op["responses"][str(status)] = {"description": "success", "content": {"application/json": {"schema": body}}}
        if key in REPLAYS:
            op["responses"]["200"] = op["responses"][str(status)]
    error = {"$ref": "#/components/responses/Error"}
    for code in ERRORS:
        op["responses"][str(code)] = error
    return op


def _preflight(path: str) -> dict[str, Any]:
    return {
        "operationId": re.sub(r"[^A-Za-z0-9]+", "_", f"options{path}").strip("_"),
        "summary": "CORS preflight",
        "description": "Who: anyone. CORS headers only for an allow-listed Origin.",
        "security": [],
        "parameters": [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string", "pattern": PATH_PARAMS.get(p, ID)}}
            for p in re.findall(r"{(\w+)}", path)
        ],
        "responses": {"204": {"description": "no content"}},
    }


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), rule in sorted(access.MATRIX.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, rule, components)
    for path, ops in paths.items():  # the CORS preflight api/http.route registers beside each path
        if path in PREFLIGHT_PATHS:
            ops["options"] = _preflight(path)
    error_ref = _ref(m.ErrorOut, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Upline",
            "version": "1",
            "description": "Referral links, a multi-level partner tree and commissions. Every 4xx has the "
            'body {"error": {"code", "message"}} and writes nothing.',
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": {
                "Error": {
                    "description": "refused; nothing was written",
                    "content": {"application/json": {"schema": error_ref}},
                }
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "signature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Upline-Signature",
                    "description": 'v1=<hex HMAC-SHA256 of "timestamp.body">',
                },
                "timestamp": {"type": "apiKey", "in": "header", "name": "X-Upline-Timestamp"},
            },
        },
    }


@route(bp, "/openapi.json")
def openapi():
    return json_response(document(), headers={"Cache-Control": "public, max-age=300"})
