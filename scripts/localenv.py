"""What `make run` leaves under .data/ (ignored by git, never committed) for the other terminals:

- `.data/local.env`: the local secrets, generated once, and the API's address, as `export K=V` lines,
  so `source .data/local.env` puts them into a shell;
- `.data/run.json`: where the running `make run` is (API, DynamoDB Local, table, stage) and the
  settings its API was started with, so the CLI acts on the same database with the same settings
  whatever port it was started on and whatever that terminal exported."""

from __future__ import annotations

import json
import os
import secrets
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chalicelib.config import is_setting_variable

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("UPLINE_LOCAL_DATA") or ROOT / ".data")  # another folder: tests of the runner
ENV_FILE = DATA / "local.env"
RUN_FILE = DATA / "run.json"
LOCAL_STAGE = "local"

GENERATED = ("UPLINE_WEBHOOK_SECRETS", "UPLINE_JWT_SECRET", "UPLINE_HASH_PEPPER")
# What a process talking to the local DynamoDB needs when nothing else says (DynamoDB Local accepts
# any credentials; -sharedDb ignores them).
LOCAL_DEFAULTS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


def _read_env_file() -> dict[str, str]:
    values: dict[str, str] = {}
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            if line.startswith("export "):
                line = line[len("export ") :]
            k, v = line.split("=", 1)
            parsed = shlex.split(v)
            values[k.strip()] = parsed[0] if parsed else ""
    return values


def _write_env_file(values: Mapping[str, str]) -> None:
    DATA.mkdir(exist_ok=True)
    ENV_FILE.write_text(
        "# Written by `make run` (not in git): `source .data/local.env` exports these.\n"
        + "".join(f"export {k}={shlex.quote(v)}\n" for k, v in values.items())
    )
    ENV_FILE.chmod(0o600)


def secrets_env(create: bool = True) -> dict[str, str]:
    """The local secrets from .data/local.env, generated the first time (and the file rewritten
    with `export` lines if an older `make run` wrote it without)."""
    values = _read_env_file()
    missing = [k for k in GENERATED if not values.get(k)]
    if (missing and create) or (values and "export " not in ENV_FILE.read_text()):
        values.update({k: secrets.token_urlsafe(32) for k in missing})
        _write_env_file(values)
    return {k: v for k, v in values.items() if k in GENERATED}


def record_run(api: str, stage: str, environment: Mapping[str, str]) -> None:
    """Written by `make run` once its database is up: the API's address for `source .data/local.env`,
    and for the CLI the run's coordinates and the settings its API runs with."""
    _write_env_file({**_read_env_file(), "API": api})
    RUN_FILE.write_text(
        json.dumps(
            {"api": api, "stage": stage, "pid": os.getpid(), "environment": settings_variables(environment)},
            indent=2,
            sort_keys=True,
        )
    )
    RUN_FILE.chmod(0o600)


def running() -> dict[str, Any] | None:
    """What the last `make run` recorded, or None if it never ran here."""
    if not RUN_FILE.exists():
        return None
    return json.loads(RUN_FILE.read_text())


def settings_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables of `environ` that the settings read."""
    return {k: v for k, v in environ.items() if is_setting_variable(k)}


def fallback(environ: Mapping[str, str]) -> dict[str, str]:
    """Without a recorded `make run`: DynamoDB Local on DYNAMODB_PORT (8001), the local secrets."""
    return {
        **LOCAL_DEFAULTS,
        "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{environ.get('DYNAMODB_PORT', '8001')}",
        "UPLINE_EXPORT_DIR": str(DATA / "exports"),
        **secrets_env(),
    }
