"""A WSGI face on chalice.test.Client, so schemathesis can drive the app in-process (no server, no
port). For the shop's webhooks it signs the exact bytes it received, as the shop would."""
from __future__ import annotations

from typing import Any, Callable
from urllib.parse import quote

from tests.support.helpers import signed_headers

SIGN_HEADER = "x-test-sign-as-shop"
REASONS = {200: "OK", 201: "Created", 302: "Found"}


class ChaliceWSGI:
    def __init__(self, client: Any):
        self.http = client.http

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        if headers.pop(SIGN_HEADER, None):
            headers.update({k.lower(): v for k, v in signed_headers(body).items() if k != "Content-Type"})
        path = quote(environ.get("PATH_INFO", "/"), safe="/:@!$&'()*+,;=-._~")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        r = self.http.request(environ["REQUEST_METHOD"], path, headers=headers, body=body)
        payload = r.body if isinstance(r.body, bytes) else (r.body or "").encode()
        start_response(f"{r.status_code} {REASONS.get(r.status_code, 'Status')}",
                       [(k, str(v)) for k, v in r.headers.items()])
        return [payload]
