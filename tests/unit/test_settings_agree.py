"""Every entry point of a stage runs with the same program settings. Each entry point's effective
Settings are built the way it builds them — the Lambda functions (API, schedules, SQS worker) from
Chalice's own resolution of .chalice/config.json as deployed, `chalice local` and Chalice's test
client over their process environment, the local runner, the CLI (and so the demo seed and
backup/restore, which run inside it) through the one loader — in terminals that export contrary
values, and every field is compared."""
from __future__ import annotations

import argparse
from typing import Any, Mapping

import pytest
from chalice.config import Config

from chalicelib.config import Settings, chalice_config, stage_environment, variable
from infra import stage as infra_stage
from scripts import cli, localenv, run_local

FUNCTIONS = ("api_handler", "settle_daily", "settlement_worker", "members_daily", "refresh_leaderboards",
             "project_figures", "outbound_events", "webhook_worker")
PSEUDO = {"AWS::AccountId": "123456789012", "AWS::Region": "eu-west-1", "AWS::URLSuffix": "amazonaws.com",
          "AWS::Partition": "aws"}
# Terminals of people who exported things: none of it may change a stage's program settings.
MAKE_RUN_TERMINAL = {"PATH": "/usr/bin", "UPLINE_CLICK_LIMIT": "7", "UPLINE_PROGRAM_TZ": "UTC"}
CLI_TERMINAL = {"PATH": "/usr/bin", "UPLINE_CLICK_LIMIT": "9", "UPLINE_PROGRAM_TZ": "Europe/Paris",
                "UPLINE_LOCK_DAYS": "2", "DYNAMODB_PORT": "8001", "AWS_REGION": "eu-west-1",
                "AWS_ACCESS_KEY_ID": "AKIA-operator", "AWS_SECRET_ACCESS_KEY": "s"}
LAMBDA_RUNTIME = {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_LAMBDA_FUNCTION_NAME": "f"}


def settings(env: Mapping[str, str]) -> dict[str, Any]:
    return Settings.from_env(env).model_dump()


def disagreements(views: Mapping[str, dict[str, Any]], fields: list[str]) -> list[str]:
    """Each field on which some entry point differs from the first, with every entry point's value."""
    out = []
    for f in fields:
        values = {name: view[f] for name, view in views.items()}
        if len({repr(v) for v in values.values()}) > 1:
            out.append(f"{f}: " + ", ".join(f"{name}={v!r}" for name, v in values.items()))
    return out


def chalice_env(stage: str, function: str, base: Mapping[str, str]) -> dict[str, str]:
    """What Chalice applies (`chalice local`, the test client, `chalice package`) over `base`."""
    cfg = Config(chalice_stage=stage, function_name=function, config_from_disk=chalice_config(),
                 user_provided_params={"project_dir": str(localenv.ROOT), "app_name": "upline"})
    return {**base, **cfg.environment_variables}


def deployed(value: str) -> str:
    """What CloudFormation puts in a Lambda's environment for a config value."""
    if value.startswith("{{resolve:ssm:"):
        return "secret-from-ssm"
    for k, v in PSEUDO.items():
        value = value.replace("${" + k + "}", v)
    return value


@pytest.fixture
def data(tmp_path, monkeypatch):
    d = tmp_path / ".data"
    monkeypatch.setattr(localenv, "DATA", d)
    monkeypatch.setattr(localenv, "ENV_FILE", d / "local.env")
    monkeypatch.setattr(localenv, "RUN_FILE", d / "run.json")
    return d


def test_every_local_entry_point_runs_with_the_settings_of_the_running_make_run(data):
    server = run_local.server_environment(MAKE_RUN_TERMINAL, "http://127.0.0.1:8101")
    localenv.record_run("http://127.0.0.1:8100", "local", server)
    _, cli_env = cli.environment(argparse.Namespace(aws=False, stage=None), CLI_TERMINAL)
    views = {
        "make run (the runner's own create-table and seed)": settings(server),
        "chalice local (the API make run serves)": settings(chalice_env("local", "api_handler", server)),
        "CLI, demo seed, backup/restore (local)": settings(cli_env),
    }
    assert disagreements(views, list(Settings.model_fields)) == []
    s = Settings.from_env(cli_env)
    assert s.program_tz == "Asia/Shanghai" and s.dynamodb_endpoint == "http://127.0.0.1:8101"
    assert s.click_limit == 7  # make run's terminal, not the CLI's


@pytest.mark.parametrize("stage", infra_stage.DEPLOYABLE_STAGES)
def test_every_deployed_function_and_the_cli_on_aws_agree_on_every_setting(stage, monkeypatch):
    functions = {f.name: f for f in infra_stage.functions(stage)}  # Chalice's resolution, as packaged
    assert set(functions) == set(FUNCTIONS)
    views = {f"Lambda {name}": settings({**LAMBDA_RUNTIME, **{k: deployed(v) for k, v in f.environment.items()}})
             for name, f in functions.items()}
    monkeypatch.setattr(cli, "_aws_pseudo", lambda environ: PSEUDO)  # STS, for the account at hand
    _, cli_env = cli.environment(argparse.Namespace(aws=True, stage=stage),
                                 {**CLI_TERMINAL, "DYNAMODB_ENDPOINT": "http://127.0.0.1:8001"})
    views["CLI --aws (finance, backup, restore)"] = settings(cli_env)
    # Secrets are resolved from SSM in AWS; the CLI acting on AWS has no use for them.
    cfg = chalice_config()
    raw = {**cfg["environment_variables"], **cfg["stages"][stage].get("environment_variables", {})}
    from_ssm = {k for k, v in raw.items() if v.startswith("{{resolve:")}
    fields = [f for f in Settings.model_fields if variable(f) not in from_ssm]
    assert "program_tz" in fields and "table" in fields
    assert disagreements(views, fields) == []


def test_the_test_client_and_code_outside_requests_agree():
    import os

    from chalice.test import Client

    from app import app

    outside = settings(dict(os.environ))  # tests/conftest.py applied the test stage through the loader
    with Client(app, stage_name="test") as client:
        cfg = client._chalice_config.scope("test", "api_handler")
        inside = settings({**os.environ, **cfg.environment_variables})
    assert disagreements({"outside a request": outside, "in a request": inside}, list(Settings.model_fields)) == []


def test_the_agreement_check_catches_an_entry_point_that_ignores_the_stage(data):
    """The defect of issue 17 item 2: the API on the stage's Asia/Shanghai, the CLI on its own UTC."""
    server = run_local.server_environment(MAKE_RUN_TERMINAL, "http://127.0.0.1:8101")
    api = settings(chalice_env("local", "api_handler", server))
    old_cli = settings({**server, "UPLINE_PROGRAM_TZ": "UTC"})
    assert disagreements({"api": api, "old cli": old_cli}, list(Settings.model_fields)) == [
        "program_tz: api='Asia/Shanghai', old cli='UTC'"]


def test_the_loader_merges_the_stage_exactly_as_chalice_does():
    for stage in chalice_config()["stages"]:
        for function in FUNCTIONS:
            ours = stage_environment(stage, function, pseudo=PSEUDO)
            theirs = {k: deployed(v) for k, v in chalice_env(stage, function, {}).items()}
            assert ours == {k: v for k, v in theirs.items() if v != "secret-from-ssm"}, (stage, function)
