"""The OpenAPI document: served at /openapi.json, in step with the app's routes and the matrix, and
fuzzed with schemathesis in-process: no 5xx, and every response matches its schema."""
from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from app import app
from chalicelib.api import access
from chalicelib.api.openapi import REQUESTS, RESPONSES, document
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from tests.support.helpers import auth
from tests.support.program import Program
from tests.support.wsgi import SIGN_HEADER, ChaliceWSGI


def test_the_document_is_served_at_a_stable_path_and_lists_every_route_with_its_methods(api):
    r = api.http.get("/openapi.json")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    doc = json.loads(r.body)
    assert doc["openapi"].startswith("3.")
    served = {(m.upper(), path) for path, ops in doc["paths"].items() for m in ops}
    on_app = {(m, path) for path, methods in app.routes.items() for m in methods}
    assert served == on_app


def test_every_request_and_response_model_names_a_real_route():
    assert set(REQUESTS) <= set(access.MATRIX) and set(RESPONSES) <= set(access.MATRIX)
    for (method, path), model in REQUESTS.items():
        op = document()["paths"][path][method.lower()]
        assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(model.__name__)


def test_each_operation_documents_who_may_call_it_and_the_error_shape():
    doc = document()
    for (method, path), rule in access.MATRIX.items():
        op = doc["paths"][path][method.lower()]
        assert (op["security"] == []) == rule.public, (method, path)
        assert op["responses"]["400"] == {"$ref": "#/components/responses/Error"}
    assert doc["components"]["schemas"]["ErrorOut"]["required"] == ["error"]


# ---- fuzzing --------------------------------------------------------------------------------------
def credentials(method: str, path: str) -> dict[str, str]:
    """The most privileged caller the matrix allows, so the fuzzer reaches the handlers."""
    rule = access.MATRIX[(method, path)]
    for role in (access.ADMIN, access.FINANCE, access.PARTNER):
        if role in rule.allowed:
            return {"Authorization": auth(role, "P-FUZZ" if role == access.PARTNER else None)["Authorization"]}
    if rule.signed:
        return {SIGN_HEADER: "1"}
    return {}


def fuzz(api, method: str, path: str, examples: int) -> None:
    """Drive one operation with schemathesis' generated cases through the app in-process. (Its
    pytest plugin does not run on this pytest, so the cases are drawn with hypothesis directly.)"""
    p = Program(api)
    p.publish_plan()
    p.enrol("FUZZ")
    p.link("FUZZ")
    operation = schemathesis.openapi.from_wsgi("/openapi.json", ChaliceWSGI(api))[path][method.upper()]
    headers = credentials(method, path)

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case):
        case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

    run()


OPERATIONS = sorted(access.MATRIX, key=lambda k: (k[1], k[0]))


@pytest.mark.parametrize("method,path", OPERATIONS, ids=lambda v: v)
def test_fuzzed_requests_never_get_a_5xx_and_every_response_matches_the_schema(api, method, path):
    fuzz(api, method, path, examples=8)


@pytest.mark.slow
@pytest.mark.parametrize("method,path", OPERATIONS, ids=lambda v: v)
def test_a_longer_fuzz_finds_no_5xx_and_no_schema_drift(api, method, path):
    fuzz(api, method, path, examples=60)
