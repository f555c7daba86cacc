"""Every response a client can get has the error shape and the security headers, unknown paths and
methods included: in the app (the Lambda), in Chalice's local gateway (the test Client and
`make run`, taught this API's gateway responses), and in the packaged template (API Gateway)."""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time

import pytest

from app import app
from chalicelib import bootstrap
from chalicelib.api import gateway
from chalicelib.api.middleware import SECURITY_HEADERS
from scripts.dynamodb_local import ROOT, free_port
from tests.support.helpers import auth

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


def assert_error_shape(r, status: int, code: str | None = None, headers: dict = SECURITY_HEADERS) -> dict:
    assert r.status_code == status, (r.status_code, r.body)
    body = json.loads(r.body)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    if code:
        assert body["error"]["code"] == code, body
    present = {k.lower(): v for k, v in r.headers.items()}
    for name, value in headers.items():
        assert present.get(name.lower()) == value, (name, r.headers)
    return body["error"]


@pytest.mark.parametrize("method,path", [("GET", "/nope"), ("GET", "/a/b/c/d"), ("POST", "/partners/x/y/z"),
                                         ("DELETE", "/missing"), ("GET", "/health/extra"), ("PUT", "/r")])
def test_an_unknown_path_answers_404_in_the_error_shape_with_the_security_headers(api, method, path):
    for headers in ({}, auth("admin")):  # Chalice's default echoes the Authorization header back
        r = api.http.request(method, path, headers=headers)
        assert_error_shape(r, 404, "no_route", gateway.GATEWAY_HEADERS)
        assert "Bearer" not in r.body.decode()


def test_every_method_a_path_does_not_have_answers_as_the_deployed_gateway_does(api):
    checked = 0
    for path, routes in app.routes.items():
        concrete = path.replace("{", "").replace("}", "")
        for method in METHODS:
            if method in routes:
                continue
            r = api.http.request(method, concrete)
            assert_error_shape(r, 404, "no_route", gateway.GATEWAY_HEADERS)
            checked += 1
    assert checked > 100


def lambda_event(method: str, resource: str, path: str) -> dict:
    return {"resource": resource, "path": path, "httpMethod": method, "headers": {}, "multiValueHeaders": {},
            "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
            "stageVariables": None, "body": None, "isBase64Encoded": False,
            "requestContext": {"resourcePath": resource, "httpMethod": method, "requestId": "req-1",
                               "identity": {"sourceIp": "203.0.113.9"}, "path": path}}


def test_the_lambda_itself_answers_a_method_its_route_lacks_in_the_error_shape(wired):
    """Reached only if API Gateway forwards such a request (a test invoke, a future ANY method)."""
    out = app(lambda_event("DELETE", "/health", "/health"), None)
    body = json.loads(out["body"])
    assert out["statusCode"] == 405 and body == {"error": {"code": "method_not_allowed",
                                                           "message": "Unsupported method: DELETE"}}
    for name, value in SECURITY_HEADERS.items():
        assert out["headers"][name] == value


def test_a_failure_outside_every_handler_still_answers_in_the_error_shape(api, monkeypatch):
    def broken():
        raise RuntimeError("settings could not be read")

    monkeypatch.setattr(bootstrap, "settings", broken)
    r = api.http.get("/me", headers=auth("admin"))
    assert_error_shape(r, 500, "internal_error")


# ---- make run's server ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def local_server():
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "scripts.local_server", "--stage", "test", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/health")
                break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("method,path", [("GET", "/nope/deeper"), ("DELETE", "/health"), ("TRACE", "/health"),
                                         ("PROPFIND", "/")])
def test_make_runs_server_answers_unknown_paths_and_methods_in_the_error_shape(local_server, method, path):
    conn = http.client.HTTPConnection("127.0.0.1", local_server, timeout=10)
    conn.request(method, path)
    r = conn.getresponse()
    body = json.loads(r.read())
    assert r.status == 404 and body["error"]["code"] == "no_route", (r.status, body)
    for name, value in gateway.GATEWAY_HEADERS.items():
        assert r.getheader(name) == value, name
