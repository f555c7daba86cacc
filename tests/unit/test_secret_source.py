"""Secrets in AWS come from SSM Parameter Store SecureStrings under /upline/<stage>, read at run time
and cached for five minutes; everywhere else from the environment. moto plays SSM."""
from __future__ import annotations

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SSMProvider
from freezegun import freeze_time

from chalicelib import bootstrap, secret_source
from chalicelib.secret_source import (MAX_AGE_SECONDS, OPTIONAL_PARAMETERS, PARAMETERS, RETRY_AFTER_SECONDS,
                                      SecretsUnavailable)

PATH = "/upline/prod"
VALUES = {"webhook-secrets": "whsec-new,whsec-old", "hash-pepper": "pepper-1",
          "jwt-jwks-url": "https://idp.example.com/.well-known/jwks.json",
          "jwt-issuer": "https://idp.example.com", "jwt-audience": "client-1"}
SECRET_VARIABLES = ("UPLINE_WEBHOOK_SECRETS", "UPLINE_HASH_PEPPER", "UPLINE_JWT_SECRET", "UPLINE_JWT_JWKS_URL",
                    "UPLINE_JWT_ISSUER", "UPLINE_JWT_AUDIENCE", *OPTIONAL_PARAMETERS.values())


@pytest.fixture
def ssm():
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("ssm", region_name="us-east-1")
        for name, value in VALUES.items():
            client.put_parameter(Name=f"{PATH}/{name}", Value=value, Type="SecureString")
        yield client


@pytest.fixture
def calls(ssm):
    """How many GetParameters requests reached SSM, from any client made from now on."""
    seen: list[str] = []
    events = boto3._get_default_session().events  # every new client copies these hooks

    def count(**kwargs):
        seen.append("GetParameters")
    events.register("before-call.ssm.GetParameters", count)
    ssm.meta.events.register("before-call.ssm.GetParameters", count)
    yield seen
    events.unregister("before-call.ssm.GetParameters", count)


@pytest.fixture
def in_aws(ssm, monkeypatch):
    """The environment a deployed function has: a path, no secret values."""
    for name in SECRET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # Only the local stage (and the tests' own receiver on 127.0.0.1) lets webhooks reach private
    # addresses; a deployed function never has it, and the settings refuse it with a secrets path.
    monkeypatch.delenv("UPLINE_OUTBOUND_ALLOW_PRIVATE", raising=False)
    monkeypatch.setenv(secret_source.PATH_VARIABLE, PATH)
    bootstrap.settings.cache_clear()
    yield
    monkeypatch.undo()
    bootstrap.settings.cache_clear()


def test_in_aws_the_settings_read_every_secret_decrypted_from_ssm(in_aws):
    s = bootstrap.settings()
    assert s.webhook_secrets == ["whsec-new", "whsec-old"]  # two accepted during a rotation
    assert s.hash_pepper == "pepper-1"
    assert (s.jwt_jwks_url, s.jwt_issuer, s.jwt_audience) == \
        ("https://idp.example.com/.well-known/jwks.json", "https://idp.example.com", "client-1")
    assert s.jwt_secret is None


def test_every_parameter_under_the_path_is_a_setting_the_app_reads():
    unset = bootstrap.Settings.from_env({})
    samples = {"UPLINE_JWT_JWKS_URL": "https://idp.example.com/.well-known/jwks.json"}  # parsed as a URL
    for variable in (*PARAMETERS.values(), *OPTIONAL_PARAMETERS.values()):
        assert bootstrap.Settings.from_env({variable: samples.get(variable, "x")}) != unset, variable


def test_secrets_are_read_once_and_served_from_the_cache_until_their_max_age(in_aws, ssm, calls):
    with freeze_time("2026-12-01 12:00:00") as clock:
        assert bootstrap.settings().hash_pepper == "pepper-1"
        ssm.put_parameter(Name=f"{PATH}/webhook-secrets", Value="whsec-rotated,whsec-new", Type="SecureString",
                          Overwrite=True)
        for _ in range(50):
            assert bootstrap.settings().webhook_secrets == ["whsec-new", "whsec-old"]
        assert calls == ["GetParameters"]  # one request for all five, then the cache
        clock.tick(MAX_AGE_SECONDS - 1)
        assert bootstrap.settings().webhook_secrets == ["whsec-new", "whsec-old"]
        assert len(calls) == 1


def test_a_rotated_secret_is_in_use_once_the_cached_value_passes_its_max_age(in_aws, ssm, calls):
    with freeze_time("2026-12-01 12:00:00") as clock:
        before = bootstrap.settings()
        ssm.put_parameter(Name=f"{PATH}/webhook-secrets", Value="whsec-rotated,whsec-new", Type="SecureString",
                          Overwrite=True)
        clock.tick(MAX_AGE_SECONDS + 1)
        after = bootstrap.settings()
        assert after.webhook_secrets == ["whsec-rotated", "whsec-new"]
        assert len(calls) == 2
        assert after is not before and bootstrap.settings() is after  # re-parsed once, then kept


def test_settings_are_not_reparsed_when_a_refresh_finds_the_same_values(in_aws, calls):
    with freeze_time("2026-12-01 12:00:00") as clock:
        first = bootstrap.settings()
        clock.tick(MAX_AGE_SECONDS + 1)
        assert bootstrap.settings() is first
        assert len(calls) == 2


def test_a_missing_parameter_stops_start_up_naming_what_to_put(in_aws, ssm):
    ssm.delete_parameter(Name=f"{PATH}/hash-pepper")
    with pytest.raises(SecretsUnavailable, match=r"/upline/prod/hash-pepper"):
        bootstrap.settings()


def test_an_ssm_outage_after_a_good_read_keeps_the_last_secrets_and_retries_later(ssm, calls):
    now = [1000.0]
    secrets = secret_source.SsmSecrets(PATH, SSMProvider(boto3_client=ssm), max_age=0, clock=lambda: now[0])
    first = secrets.values()
    assert first["UPLINE_HASH_PEPPER"] == "pepper-1"
    now[0] += secret_source.LOOK_EVERY_SECONDS

    def refuse(**kwargs):
        raise secret_source.ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}},
                                        "GetParameters")
    ssm.meta.events.register("before-call.ssm.GetParameters", refuse)
    assert secrets.values() is first                 # SSM refused: the last values, no exception
    assert len(calls) == 2
    asked = len(calls)
    now[0] += RETRY_AFTER_SECONDS - 1
    assert secrets.values() is first and len(calls) == asked   # ...without asking again at once
    ssm.meta.events.unregister("before-call.ssm.GetParameters", refuse)
    ssm.put_parameter(Name=f"{PATH}/hash-pepper", Value="pepper-2", Type="SecureString", Overwrite=True)
    now[0] += 2
    assert secrets.values()["UPLINE_HASH_PEPPER"] == "pepper-2"


def test_a_secret_left_in_the_environment_beside_a_secrets_path_is_refused(monkeypatch):
    env = {secret_source.PATH_VARIABLE: PATH, "UPLINE_HASH_PEPPER": "in-the-function-config"}
    with pytest.raises(SecretsUnavailable, match="UPLINE_HASH_PEPPER"):
        secret_source.source(env)


def test_without_a_secrets_path_the_secrets_come_from_the_environment():
    env = {"UPLINE_WEBHOOK_SECRETS": "a,b", "UPLINE_JWT_SECRET": "j", "UPLINE_HASH_PEPPER": "p", "UPLINE_TABLE": "t"}
    source = secret_source.source(env)
    assert isinstance(source, secret_source.EnvironmentSecrets)
    assert source.values() == {"UPLINE_WEBHOOK_SECRETS": "a,b", "UPLINE_JWT_SECRET": "j", "UPLINE_HASH_PEPPER": "p"}


def test_parameters_an_older_deploy_put_as_plain_strings_are_still_read(ssm):
    ssm.put_parameter(Name=f"{PATH}/hash-pepper", Value="plain-pepper", Type="String", Overwrite=True)
    values = secret_source.SsmSecrets(PATH, SSMProvider(boto3_client=ssm)).values()
    assert values["UPLINE_HASH_PEPPER"] == "plain-pepper"


def test_a_shop_provider_secret_not_put_in_ssm_leaves_that_provider_unconfigured(in_aws):
    s = bootstrap.settings()
    assert (s.stripe_webhook_secrets, s.shopify_webhook_secrets, s.woocommerce_webhook_secrets,
            s.paddle_webhook_secrets) == ([], [], [], [])


def test_shop_provider_secrets_put_in_ssm_are_read_with_the_others_in_one_request(in_aws, ssm, calls):
    ssm.put_parameter(Name=f"{PATH}/stripe-webhook-secrets", Value="whsec_new,whsec_old", Type="SecureString")
    ssm.put_parameter(Name=f"{PATH}/paddle-webhook-secrets", Value="pdl_ntfset_1", Type="SecureString")
    with freeze_time("2026-12-01 12:00:00") as clock:
        s = bootstrap.settings()
        assert s.stripe_webhook_secrets == ["whsec_new", "whsec_old"]
        assert s.paddle_webhook_secrets == ["pdl_ntfset_1"] and s.shopify_webhook_secrets == []
        assert calls == ["GetParameters"]
        clock.tick(MAX_AGE_SECONDS - 1)   # the absent ones are not asked for again before the max age
        assert bootstrap.settings().stripe_webhook_secrets == ["whsec_new", "whsec_old"]
        assert len(calls) == 1


def test_a_shop_provider_secret_put_later_is_in_use_once_the_cache_passes_its_max_age(in_aws, ssm, calls):
    with freeze_time("2026-12-01 12:00:00") as clock:
        assert bootstrap.settings().shopify_webhook_secrets == []
        ssm.put_parameter(Name=f"{PATH}/shopify-webhook-secrets", Value="shpss_1", Type="SecureString")
        clock.tick(MAX_AGE_SECONDS + 1)
        assert bootstrap.settings().shopify_webhook_secrets == ["shpss_1"]
        assert len(calls) == 2


def test_a_shop_provider_secret_in_the_environment_beside_a_secrets_path_is_refused():
    env = {secret_source.PATH_VARIABLE: PATH, "UPLINE_STRIPE_WEBHOOK_SECRETS": "whsec_in_the_function_config"}
    with pytest.raises(SecretsUnavailable, match="UPLINE_STRIPE_WEBHOOK_SECRETS"):
        secret_source.source(env)
