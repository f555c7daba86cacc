"""The packaged template configures what API Gateway answers by itself (an unknown path or method,
throttling, an oversized body, a timeout) in the house error shape with the security headers, and
the local emulation the tests and `make run` use answers exactly that (chalicelib/api/gateway.py)."""
from __future__ import annotations

import json

from chalicelib.api import gateway


def _rest_api(template: dict) -> dict:
    return next(v for v in template["Resources"].values() if v["Type"] == "AWS::Serverless::Api")


def test_the_packaged_api_answers_unknown_routes_and_its_own_errors_in_the_error_shape(packaged):
    responses = _rest_api(packaged.template)["Properties"]["GatewayResponses"]
    assert set(responses) >= {"MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED",
                              "REQUEST_TOO_LARGE", "INTEGRATION_TIMEOUT"}
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    for kind, response in responses.items():
        headers = response["ResponseParameters"]["Headers"]
        assert headers == {name: f"'{value}'" for name, value in gateway.GATEWAY_HEADERS.items()}, kind
        assert all(v.count("'") == 2 for v in headers.values()), kind  # a static value is one quoted literal
        # As API Gateway fills it in: $context.error.messageString is a quoted JSON string.
        body = json.loads(response["ResponseTemplates"]["application/json"].replace(
            "$context.error.messageString", json.dumps('Missing "Authentication" Token')))
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, kind


def test_sam_turns_them_into_the_rest_apis_gateway_responses(packaged):
    body = next(v for v in packaged.transformed()["Resources"].values()
                if v["Type"] == "AWS::ApiGateway::RestApi")["Properties"]["Body"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert responses["DEFAULT_4XX"]["responseParameters"]["gatewayresponse.header.X-Frame-Options"] == "'DENY'"


def test_the_local_emulation_answers_exactly_what_the_template_configures(api, packaged):
    configured = _rest_api(packaged.template)["Properties"]["GatewayResponses"]["MISSING_AUTHENTICATION_TOKEN"]
    r = api.http.get("/no/such/route")
    assert r.body.decode() == configured["ResponseTemplates"]["application/json"]
    assert {k: f"'{v}'" for k, v in r.headers.items() if k != "Content-Type"} == \
        configured["ResponseParameters"]["Headers"]
