"""The composition root: lazy, cached getters. Nothing is built at import time, so tests can
swap the settings or the table before anything touches AWS."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

import boto3
from botocore.config import Config

from .config import Settings
from .store.dynamo import Table
from .store.repository import Repository


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


def dynamodb_client(s: Settings):
    # Standard retry mode: jittered exponential backoff on throttling and transient errors.
    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)
    return boto3.client("dynamodb", region_name=s.region, endpoint_url=s.dynamodb_endpoint, config=config)


_repository: Repository | None = None


def repository() -> Repository:
    global _repository
    if _repository is None:
        s = settings()
        _repository = Repository(Table(dynamodb_client(s), s.table_name))
    return _repository


def use(repo: Repository | None) -> None:
    """Hand out this repository from now on (tests, benchmarks); None goes back to building one."""
    global _repository
    _repository = repo


def now() -> datetime:
    return datetime.now(timezone.utc)


def reset() -> None:
    """Forget cached settings and clients (tests, and the local runner after it changes the env)."""
    settings.cache_clear()
    use(None)
