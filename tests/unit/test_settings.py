"""The settings model: one variable per field, named after it (the AWS region and the DynamoDB
endpoint excepted), comma lists as comma-separated strings, every field described, and the
configuration reference generated from it."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.config import (DEPLOYMENT, PREFIX, PROGRAM, SECRET, Settings, chalice_config, stage_environment,
                               variable, variables)
from scripts import gen_config_docs

# A valid value per type, to set each variable once.
SAMPLES = {str: "x", int: "7", bool: "true"}
# Settings whose values are parsed (URLs as a browser reads them, domain names): a valid one, and how
# it is kept.
PARSED = {
    "fence_seconds": ("600", 600),  # must outlast a request (checked against max_request_seconds)
    "jwt_jwks_url": ("https://idp.example.com/.well-known/jwks.json", "https://idp.example.com/.well-known/jwks.json"),
    "compliance_profile": ("cn", "cn"),
    "sso_authorize_url": ("https://idp.example.com/oauth2/authorize", "https://idp.example.com/oauth2/authorize"),
    "default_destination": ("https://Shop.Example.com/x", "https://shop.example.com/x"),
    "allowed_domains": ("Shop.Example.com, b.example.com ,,c.example.com",
                        ["shop.example.com", "b.example.com", "c.example.com"]),
    "cors_origins": ("https://A.example.com, https://b.example.com:8443 ,,https://c.example.com",
                     ["https://a.example.com", "https://b.example.com:8443", "https://c.example.com"]),
}


def _sample(name: str) -> tuple[str, object]:
    field = Settings.model_fields[name]
    if name == "program_tz":
        return "Europe/Berlin", "Europe/Berlin"
    if name in PARSED:
        return PARSED[name]
    if "list" in str(field.annotation):
        return "A, b ,,c", ["A", "b", "c"]
    for t, raw in SAMPLES.items():
        if t in (field.annotation, *getattr(field.annotation, "__args__", ())):
            value = {"7": 7, "true": True}.get(raw, raw) if t is not str else raw
            if t is int:
                lo = next((m.ge for m in field.metadata if hasattr(m, "ge")), 0)
                return str(max(7, lo)), max(7, lo)
            return raw, value
    raise AssertionError(f"no sample for {name}: {field.annotation}")


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_is_read_from_the_variable_named_after_it(name):
    raw, expected = _sample(name)
    env = {variable(name): raw}
    if name == "default_destination":  # it must lie within the allowed domains
        env["UPLINE_ALLOWED_DOMAINS"] = "shop.example.com"
    assert getattr(Settings.from_env(env), name) == expected
    if name not in ("region", "dynamodb_endpoint"):
        assert variable(name) == PREFIX + name.upper()


def test_only_the_aws_tools_own_names_are_exceptions():
    assert {v for v in variables() if not v.startswith(PREFIX)} == {"AWS_REGION", "AWS_DEFAULT_REGION",
                                                                      "DYNAMODB_ENDPOINT"}
    assert Settings.from_env({"AWS_DEFAULT_REGION": "eu-west-1"}).region == "eu-west-1"
    assert Settings.from_env({"AWS_REGION": "ap-east-1", "AWS_DEFAULT_REGION": "eu-west-1"}).region == "ap-east-1"


def test_the_variables_deployed_stacks_already_use_keep_their_meaning():
    s = Settings.from_env({"UPLINE_TABLE": "upline-prod", "UPLINE_CLICK_LIMIT": "5", "UPLINE_SIGNUP_LIMIT": "6",
                           "UPLINE_FRAUD_MIN_CLICK_SECONDS": "45", "DYNAMODB_ENDPOINT": "http://127.0.0.1:8001"})
    assert (s.table, s.click_limit, s.signup_limit, s.fraud_min_click_seconds, s.dynamodb_endpoint) == \
        ("upline-prod", 5, 6, 45, "http://127.0.0.1:8001")


def test_every_variable_the_stages_set_is_a_setting():
    cfg = chalice_config()
    for stage in cfg["stages"]:
        named = {**cfg["environment_variables"], **cfg["stages"][stage].get("environment_variables", {})}
        unknown = {k for k in named if k.startswith(PREFIX)} - variables()
        assert unknown == set(), f"{stage}: {unknown} would be silently ignored"
    assert stage_environment("local")["UPLINE_TABLE"] == "upline-local"


def test_comma_lists_are_accepted_as_comma_separated_strings():
    s = Settings.from_env({"UPLINE_CURRENCIES": "USD, EUR", "UPLINE_WEBHOOK_SECRETS": "old,new",
                           "UPLINE_ALLOWED_DOMAINS": "Shop.Example.com,,cdn.example.com "})
    assert s.currencies == ["USD", "EUR"] and s.webhook_secrets == ["old", "new"]
    assert s.allowed_domains == ["shop.example.com", "cdn.example.com"]


def test_an_empty_variable_means_unset():
    s = Settings.from_env({"UPLINE_EXPORT_BUCKET": "", "UPLINE_LOCK_DAYS": ""})
    assert s.export_bucket is None and s.lock_days == 5


def test_a_value_out_of_bounds_or_an_unknown_zone_stops_start_up():
    for env in ({"UPLINE_MAX_DEPTH": "0"}, {"UPLINE_LOCK_DAYS": "61"}, {"UPLINE_PROGRAM_TZ": "Mars/Olympus"},
                {"UPLINE_SETTLEMENT_THREADS": "many"}):
        with pytest.raises(ValidationError):
            Settings.from_env(env)


def test_every_setting_has_a_description_and_a_group():
    for name, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 10, name
        assert (field.json_schema_extra or {}).get("group") in (PROGRAM, DEPLOYMENT, SECRET), name


def test_the_configuration_reference_is_generated_from_the_model_and_is_current():
    committed = gen_config_docs.OUT.read_text()
    assert committed == gen_config_docs.render(), "docs/configuration.md is stale: run `make docs`"
    for name in Settings.model_fields:
        assert f"`{variable(name)}`" in committed, name
