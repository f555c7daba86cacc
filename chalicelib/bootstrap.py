"""The composition root: lazy, cached getters. Nothing is built at import time, so tests can
swap the settings or the table before anything touches AWS."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

from . import secret_source
from .config import Settings
from .services.audit import AuditTrail
from .services.outbound import DeliveryRules
from .services.settlement.deps import Deps
from .store.dynamo import Table
from .store.files import FileStore, FolderFiles, S3Files
from .store.repositories import Repositories
from .store.uow import UnitOfWork
from .webhook_io import HttpSender, LocalQueue, SqsQueue

_secrets: secret_source.Source | None = None
_settings: tuple[Mapping[str, str], Settings] | None = None


def settings() -> Settings:
    """The environment parsed once, with the secrets overlaid from their one source
    (secret_source: SSM in AWS, the environment elsewhere). Re-parsed only when a secret has
    changed, which in AWS is noticed when the cached SSM values pass their max age."""
    global _secrets, _settings
    if _secrets is None:
        _secrets = secret_source.source(os.environ)
    current = _secrets.values()
    built = _settings
    if built is None or built[0] is not current:
        built = _settings = (current, Settings.from_env({**os.environ, **current}))
    return built[1]


def _forget_settings() -> None:
    global _secrets, _settings
    _secrets = _settings = None


settings.cache_clear = _forget_settings  # type: ignore[attr-defined]  # tests: re-read the environment


def dynamodb_client(s: Settings):
    # Standard retry mode: jittered exponential backoff on throttling and transient errors.
    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)
    return boto3.client("dynamodb", region_name=s.region, endpoint_url=s.dynamodb_endpoint, config=config)


_table: Table | None = None
_repositories: Repositories | None = None


def table() -> Table:
    """The one table, through one client for the process."""
    global _table
    if _table is None:
        s = settings()
        _table = Table(dynamodb_client(s), s.table)
    return _table


def repositories() -> Repositories:
    """The process's repositories over the table: built once, since they hold its bounded caches."""
    global _repositories
    if _repositories is None:
        _repositories = Repositories(table())
    return _repositories


def uow() -> UnitOfWork:
    """A fresh unit of work for one request or job."""
    return UnitOfWork(repositories())


def use_repositories(r: Repositories) -> None:
    """Hand out these repositories (over their table) from now on (benchmarks that size the caches)."""
    global _table, _repositories
    _table, _repositories = r.table, r


def use_table(t: Table | None) -> None:
    """Hand out this table from now on (tests, benchmarks); None goes back to building one."""
    global _table, _repositories
    _table, _repositories = t, None


_files: FileStore | None = None


def files() -> FileStore:
    """Where exports are kept: the S3 bucket in AWS, else a local folder."""
    global _files
    if _files is None:
        s = settings()
        if s.export_bucket:
            # SigV4: presigned links to SSE-KMS objects need it, and they carry an explicit expiry.
            s3 = boto3.client("s3", region_name=s.region, config=Config(signature_version="s3v4"))
            _files = S3Files(s3, s.export_bucket)
        else:
            _files = FolderFiles(s.export_dir)
    return _files


def use_files(store: FileStore | None) -> None:
    global _files
    _files = store


_senders: dict[str, Any] = {}


def _send_to_queue(url: str):
    """The settlement queue's sender, built once per queue (one SQS client for the process)."""
    if url not in _senders:
        client = boto3.client("sqs", region_name=settings().region)

        def send(period: str, shard: int) -> None:
            client.send_message(QueueUrl=url, MessageBody=json.dumps({"period": period, "shard": shard}))

        _senders[url] = send
    return _senders[url]


def settlement(progress=None, fan_out: bool | None = None) -> Deps:
    """Everything settlement needs. Shards fan out over SQS when a queue is configured."""
    s = settings()
    fan_out = bool(s.settlement_queue_url) if fan_out is None else fan_out
    return Deps(
        uow=uow(),
        files=files(),
        cal=s.calendar,
        tree=s.tree_rules,
        payout_provider=s.payout_provider,
        shard_threads=s.settlement_threads,
        fanout=_send_to_queue(s.settlement_queue_url) if fan_out and s.settlement_queue_url else None,
        progress=progress,
    )


_webhook_queue: Any = None


def webhook_queue() -> Any:
    """Where outbound webhook deliveries wait: the SQS queue in AWS, else one in-process queue
    (webhook_io.LocalQueue, on the app's clock) that `make run` and the tests drain."""
    global _webhook_queue
    if _webhook_queue is None:
        s = settings()
        if s.webhook_queue_url:
            _webhook_queue = SqsQueue(boto3.client("sqs", region_name=s.region), s.webhook_queue_url)
        else:
            _webhook_queue = LocalQueue(lambda: now())
    return _webhook_queue


def webhook_sender() -> HttpSender:
    s = settings()
    return HttpSender(s.outbound_timeout_seconds, s.outbound_allow_private)


def delivery_rules() -> DeliveryRules:
    s = settings()
    # A claimed attempt holds other copies of its message back for longer than it can take.
    return DeliveryRules(
        timedelta(hours=s.outbound_retry_hours), timedelta(seconds=3 * s.outbound_timeout_seconds + 10)
    )


def audit_trail(request_id: str | None = None) -> AuditTrail:
    """The one audit writer, for the API request, CLI invocation or job run named by `request_id`."""
    return AuditTrail(uow(), lambda: now(), request_id)


def now() -> datetime:
    return datetime.now(UTC)


def reset() -> None:
    """Forget cached settings and clients (tests, and the local runner after it changes the env)."""
    _forget_settings()
    use_table(None)
    use_files(None)
    _senders.clear()
    global _webhook_queue
    _webhook_queue = None
