"""What the packaged stack needs to know about the Chalice app: its functions and each one's
settings for a stage, read through Chalice's own config resolution (so the template and
`chalice package` can never disagree about a timeout or an environment variable)."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalice.app import CloudWatchEventConfig, S3EventConfig, ScheduledEventConfig, SNSEventConfig, SQSEventConfig
from chalice.config import Config
from chalice.constants import DEFAULT_LAMBDA_TIMEOUT
from chalice.utils import to_cfn_resource_name

ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE = ROOT / ".chalice" / "config.json"
API_FUNCTION = "api_handler"
DEPLOYABLE_STAGES = ("dev", "prod")
# Event sources that invoke their function asynchronously: Lambda retries a failed event twice, then
# drops it unless the function has a dead-letter queue.
ASYNC_SOURCES = (ScheduledEventConfig, CloudWatchEventConfig, S3EventConfig, SNSEventConfig)


@dataclass(frozen=True)
class Function:
    name: str  # Chalice's name: api_handler, settle_daily, settlement_worker, ...
    logical_id: str  # the function's resource in the packaged template
    role_logical_id: str  # its own IAM role (autogen_policy is off, one role per function)
    log_group_logical_id: str  # the log group Chalice makes when log_retention_in_days is set
    timeout: int
    environment: dict[str, str]
    sqs_queue: str | None  # the queue name given to @on_sqs_message, if it is a queue consumer
    asynchronous: bool  # invoked asynchronously (@schedule and the like): its failures need a DLQ
    reserved_concurrency: int | None  # "reserved_concurrency" in .chalice/config.json


@lru_cache(maxsize=1)
def config_from_disk() -> dict[str, Any]:
    return json.loads(CONFIG_FILE.read_text())


@lru_cache(maxsize=1)
def _app():
    return importlib.import_module("app").app


def _config(stage: str, function_name: str) -> Config:
    return Config(
        chalice_stage=stage,
        function_name=function_name,
        user_provided_params={"project_dir": str(ROOT), "app_name": _app().app_name},
        config_from_disk=config_from_disk(),
    )


def functions(stage: str) -> list[Function]:
    """Every Lambda function `chalice package` makes for this app, in a stable order."""
    if stage not in DEPLOYABLE_STAGES:
        raise ValueError(f"stage must be one of {DEPLOYABLE_STAGES}, not {stage!r}")
    app = _app()
    names: list[tuple[str, str | None, bool]] = [(API_FUNCTION, None, False)] if app.routes else []
    for source in app.event_sources:
        names.append(
            (
                source.name,
                source.queue if isinstance(source, SQSEventConfig) else None,
                isinstance(source, ASYNC_SOURCES),
            )
        )
    names += [(f.name, None, False) for f in app.pure_lambda_functions]
    out = []
    for name, queue, asynchronous in names:
        cfg = _config(stage, name)
        policy = cfg.iam_policy_file
        if not policy or not (ROOT / ".chalice" / policy).is_file():
            raise ValueError(
                f"function {name!r} has no written IAM policy: add .chalice/policy-{name}.json and "
                f'"lambda_functions": {{"{name}": {{"iam_policy_file": "policy-{name}.json"}}}} '
                "to .chalice/config.json (autogen_policy is off)"
            )
        logical = "APIHandler" if name == API_FUNCTION else to_cfn_resource_name(name)
        out.append(
            Function(
                name=name,
                logical_id=logical,
                role_logical_id=to_cfn_resource_name(f"{name}_role"),
                log_group_logical_id=to_cfn_resource_name(f"{name}-log-group"),
                timeout=int(cfg.lambda_timeout or DEFAULT_LAMBDA_TIMEOUT),
                environment=dict(cfg.environment_variables),
                sqs_queue=queue,
                asynchronous=asynchronous,
                reserved_concurrency=cfg.reserved_concurrency,
            )
        )
    return out


def environment(stage: str) -> dict[str, str]:
    """The stage's environment as every function sees it (global values, then the stage's)."""
    return functions(stage)[0].environment


def function(stage: str, name: str) -> Function:
    return next(f for f in functions(stage) if f.name == name)
