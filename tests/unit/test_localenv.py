"""What make run leaves under .data/ for other terminals: a file a shell can source, and the run's
record the CLI reads."""
from __future__ import annotations

import json
import subprocess

import pytest

from scripts import localenv


@pytest.fixture
def data(tmp_path, monkeypatch):
    d = tmp_path / ".data"
    monkeypatch.setattr(localenv, "DATA", d)
    monkeypatch.setattr(localenv, "ENV_FILE", d / "local.env")
    monkeypatch.setattr(localenv, "RUN_FILE", d / "run.json")
    return d


def _sourced(env_file, *names: str) -> dict[str, str]:
    """What a child process of a shell sees after `source`: exported variables only."""
    out = subprocess.run(["bash", "-c", f"source {env_file} && env"], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin"}, check=True).stdout
    seen = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {n: seen.get(n, "") for n in names}


def test_sourcing_local_env_exports_the_secrets_and_the_api_address(data):
    secrets = localenv.secrets_env()
    localenv.record_run("http://127.0.0.1:8100", "local", {"UPLINE_TABLE": "upline-local", "PATH": "/x"})
    seen = _sourced(localenv.ENV_FILE, "UPLINE_WEBHOOK_SECRETS", "UPLINE_JWT_SECRET", "API")
    assert seen == {"UPLINE_WEBHOOK_SECRETS": secrets["UPLINE_WEBHOOK_SECRETS"],
                    "UPLINE_JWT_SECRET": secrets["UPLINE_JWT_SECRET"], "API": "http://127.0.0.1:8100"}
    assert localenv.ENV_FILE.stat().st_mode & 0o777 == 0o600


def test_an_older_local_env_without_exports_is_rewritten_with_the_same_secrets(data):
    data.mkdir()
    localenv.ENV_FILE.write_text("# old\nUPLINE_WEBHOOK_SECRETS=w\nUPLINE_JWT_SECRET=j\nUPLINE_HASH_PEPPER=p\n")
    assert localenv.secrets_env() == {"UPLINE_WEBHOOK_SECRETS": "w", "UPLINE_JWT_SECRET": "j",
                                      "UPLINE_HASH_PEPPER": "p"}
    assert _sourced(localenv.ENV_FILE, "UPLINE_JWT_SECRET") == {"UPLINE_JWT_SECRET": "j"}


def test_the_run_record_keeps_the_settings_the_api_runs_with_and_nothing_else(data):
    localenv.record_run("http://127.0.0.1:8100", "local", {
        "UPLINE_TABLE": "upline-local", "DYNAMODB_ENDPOINT": "http://127.0.0.1:8101", "AWS_DEFAULT_REGION": "us-east-1",
        "PATH": "/usr/bin", "HOME": "/root", "AWS_SECRET_ACCESS_KEY": "real-key"})
    run = json.loads(localenv.RUN_FILE.read_text())
    assert run["api"] == "http://127.0.0.1:8100" and run["stage"] == "local"
    assert run["environment"] == {"UPLINE_TABLE": "upline-local", "DYNAMODB_ENDPOINT": "http://127.0.0.1:8101",
                                  "AWS_DEFAULT_REGION": "us-east-1"}
