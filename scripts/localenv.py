"""Local-only secrets: generated once into .data/local.env (ignored by git), never committed."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".data"
ENV_FILE = DATA / "local.env"

GENERATED = ("UPLINE_WEBHOOK_SECRETS", "UPLINE_JWT_SECRET", "UPLINE_HASH_PEPPER")


def load(create: bool = True) -> dict[str, str]:
    """Read .data/local.env (creating it with fresh random secrets) and put it into os.environ."""
    values: dict[str, str] = {}
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                values[k.strip()] = v.strip()
    elif create:
        DATA.mkdir(exist_ok=True)
        values = {k: secrets.token_urlsafe(32) for k in GENERATED}
        ENV_FILE.write_text("# Local secrets for `make run` (generated; not in git)\n"
                            + "".join(f"{k}={v}\n" for k, v in values.items()))
        ENV_FILE.chmod(0o600)
    for k, v in values.items():
        os.environ.setdefault(k, v)
    return values


def use_local_database() -> None:
    """Point at the DynamoDB Local that `make run` serves, unless told otherwise."""
    os.environ.setdefault("DYNAMODB_ENDPOINT", f"http://127.0.0.1:{os.environ.get('DYNAMODB_PORT', '8001')}")
    os.environ.setdefault("UPLINE_TABLE", "upline-local")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("UPLINE_EXPORT_DIR", str(DATA / "exports"))
