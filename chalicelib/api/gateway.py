"""What a client gets when API Gateway answers by itself, without calling the Lambda.

In AWS, a path or method that no route declares never reaches the app: API Gateway answers
`403 {"message": "Missing Authentication Token"}`, and throttling, oversized bodies, timeouts and
crashes get its own bodies too, none with the house error shape or the security headers. Its
"gateway responses" are configured here, once: infra/ puts them on the REST API in the packaged
template, and scripts/local_server.py teaches Chalice's local gateway (`make run`, and the
`chalice.test.Client` the tests use) to answer the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .http import error_body
from .middleware import SECURITY_HEADERS

# A static header value in a gateway response is a single-quoted literal; the app's policy uses
# quoted keywords ('none'), so an error body from the gateway gets an equivalent quote-free policy.
GATEWAY_HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy": "sandbox"}
MESSAGE = "$context.error.messageString"  # API Gateway's own message, already a quoted JSON string


@dataclass(frozen=True)
class GatewayAnswer:
    response_type: str  # API Gateway's response type
    code: str  # the house error code
    status: int | None = None  # None: API Gateway's own status for the type
    message: str | None = None  # None: API Gateway's own message

    def template(self) -> str:
        """The body, as API Gateway fills it in (only $context variables are substituted)."""
        if self.message is not None:
            return json.dumps(error_body(self.code, self.message))
        return '{"error": {"code": ' + json.dumps(self.code) + ', "message": ' + MESSAGE + "}}"

    def body(self, gateway_message: str = "") -> str:
        """What a client receives: the template with the gateway's message filled in."""
        return self.template().replace(MESSAGE, json.dumps(gateway_message))


# An unknown path, and a method a path does not have, are both MISSING_AUTHENTICATION_TOKEN to
# API Gateway; it cannot tell them apart, so both are a 404 here (and in the local emulation).
NO_ROUTE = GatewayAnswer("MISSING_AUTHENTICATION_TOKEN", "no_route", 404, "no route matches this method and path")
ANSWERS = (
    NO_ROUTE,
    GatewayAnswer("THROTTLED", "rate_limited"),
    GatewayAnswer("QUOTA_EXCEEDED", "rate_limited"),
    GatewayAnswer("REQUEST_TOO_LARGE", "payload_too_large"),
    GatewayAnswer("UNSUPPORTED_MEDIA_TYPE", "unsupported_media_type"),
    GatewayAnswer("WAF_FILTERED", "forbidden"),
    GatewayAnswer("ACCESS_DENIED", "forbidden"),
    GatewayAnswer("INTEGRATION_TIMEOUT", "timeout"),
    GatewayAnswer("INTEGRATION_FAILURE", "internal_error"),
    GatewayAnswer("DEFAULT_4XX", "refused"),
    GatewayAnswer("DEFAULT_5XX", "internal_error"),
)
BY_TYPE = {a.response_type: a for a in ANSWERS}


def sam_gateway_responses() -> dict[str, Any]:
    """The REST API's `GatewayResponses` (AWS::Serverless::Api), for the merge template."""
    out: dict[str, Any] = {}
    for a in ANSWERS:
        response: dict[str, Any] = {
            "ResponseParameters": {"Headers": {name: f"'{value}'" for name, value in GATEWAY_HEADERS.items()}},
            "ResponseTemplates": {"application/json": a.template()},
        }
        if a.status is not None:
            response["StatusCode"] = str(a.status)
        out[a.response_type] = response
    return out


def answer_for_status(status: int) -> GatewayAnswer:
    return BY_TYPE["DEFAULT_5XX"] if status >= 500 else BY_TYPE["DEFAULT_4XX"]


def proxy_response(answer: GatewayAnswer, status: int | None = None, gateway_message: str = "") -> dict[str, Any]:
    """The answer as a Lambda proxy response dict (what Chalice's local gateway hands back)."""
    return {
        "statusCode": answer.status or status or 500,
        "headers": {"Content-Type": "application/json", **GATEWAY_HEADERS},
        "multiValueHeaders": {},
        "body": answer.body(gateway_message),
    }
