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
    on_app = {(m, path) for path, methods in app.routes.items() for m in methods if m != "OPTIONS"}
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
    fuzz(api, method, path, examples=6)


@pytest.mark.slow
@pytest.mark.parametrize("method,path", OPERATIONS, ids=lambda v: v)
def test_a_longer_fuzz_finds_no_5xx_and_no_schema_drift(api, method, path):
    fuzz(api, method, path, examples=30)


@pytest.mark.parametrize("when", ["0404-01-01T08:14:16Z", "1899-12-31T00:00:00Z", "9999-12-31T23:00:00-05:00"])
def test_a_plan_dated_outside_plausible_years_is_refused_and_plans_stay_readable(api, when):
    """Found by the longer fuzz: year 0404 was stored, and every later read of the plans failed (500)."""
    plan = {"levels_bps": [0], "cap_bps": 0, "effective_from": when, "min_payout_minor": 1}
    r = api.http.post("/admin/plans", headers=auth("admin"), body=json.dumps(plan).encode())
    assert r.status_code == 400, r.body
    assert api.http.post("/admin/plans", headers=auth("admin"),
                         body=json.dumps({**plan, "effective_from": "2026-01-01T00:00:00Z"}).encode()).status_code == 201
    assert api.http.get("/admin/plans", headers=auth("admin")).status_code == 200
