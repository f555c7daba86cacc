"""Scheduled and queued work: the daily settlement run and the settlement shard worker."""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint, Cron, Rate

from . import bootstrap
from .auth import Principal
from .observability import flush_metrics, logger
from .services import finance, leaderboards, outbound, stream
from .services.settlement import close

bp = Blueprint(__name__)

QUEUE = "upline-settlement"
WEBHOOK_QUEUE = "upline-webhooks"  # infra/template.py points the packaged event source at this stack's queue
# The table's stream; infra/template.py points the packaged event source at this stack's table.
STREAM = "arn:aws:dynamodb:us-east-1:000000000000:table/upline/stream/placeholder"
# The schedule acts under its own name, in the audit log and as the maker of the batches it builds.
SCHEDULE = Principal(subject=close.SYSTEM, role="system")


@bp.schedule(Cron(0, 1, "*", "*", "?", "*"), name="settle_daily")
def settle_daily(event):
    """Every day at 01:00 UTC: close each period past its lock and settle it (or fan its shards out)."""
    try:
        trail = bootstrap.audit_trail(f"settle_daily:{_event_id(event)}")
        results = finance.run_daily(bootstrap.settlement(), trail, SCHEDULE, bootstrap.now())
        logger.info("settlement run", extra={"results": results})
        return {"results": results}
    finally:
        flush_metrics()


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="refresh_leaderboards")
def refresh_leaderboards(event):
    """Every five minutes: rebuild the leaderboards of the period under way (and of the one before
    until it locks) from the projected figures; requests only read the cached boards."""
    try:
        built = leaderboards.refresh(bootstrap.uow(), bootstrap.settings().calendar, bootstrap.now())
        logger.info("leaderboards built", extra={"built": built})
        return {"built": built}
    finally:
        flush_metrics()


@bp.on_sqs_message(queue=QUEUE, batch_size=1, name="settlement_worker")
def settlement_worker(event):
    """One shard of one period per message. A message that fails is reported back (partial batch
    failure reporting is switched on in infra/), so SQS redelivers it and, after its retries, parks
    it in the dead-letter queue; a redelivery settles nothing twice."""
    try:
        return _work(bootstrap.settlement(fan_out=False), event)
    finally:
        flush_metrics()


def _event_id(event) -> str:
    to_dict = getattr(event, "to_dict", None)
    data: dict[str, Any] = (to_dict() if to_dict else None) or {}
    return str(data.get("id") or "")


def _work(deps, event) -> dict:
    failed = []
    for record in event:
        try:
            job = json.loads(record.body)
            batch = close.work_shard(deps, job["period"], int(job["shard"]), bootstrap.now())
            logger.info(
                "settlement shard done",
                extra={"period": job["period"], "shard": job["shard"], "batch_status": (batch or {}).get("status")},
            )
        except Exception:
            logger.exception("settlement shard failed", extra={"message_id": record.to_dict().get("messageId")})
            failed.append({"itemIdentifier": record.to_dict().get("messageId")})
    return {"batchItemFailures": failed}


@bp.on_dynamodb_record(stream_arn=STREAM, batch_size=500, name="project_figures")
def project_figures(event):
    """The table's stream: partners' running figures from their ledgers and the coupon leak watch
    (services/stream.py).
    A failed batch is retried as a whole by Lambda; applying it again changes nothing."""
    try:
        done = stream.consume(bootstrap.uow(), [stream_record(r) for r in event], bootstrap.settings(), bootstrap.now())
        logger.info("stream consumed", extra=done)
        return done
    finally:
        flush_metrics()


@bp.on_dynamodb_record(stream_arn=STREAM, batch_size=500, name="outbound_events")
def outbound_events(event):
    """The table's stream again (its second reader): outbound webhook events, one delivery per event
    and subscribed endpoint, queued (services/outbound.py). A failed batch is retried as a whole;
    a delivery made before is found, not made twice."""
    try:
        made = outbound.fan_out(
            bootstrap.uow(), [stream_record(r) for r in event], bootstrap.webhook_queue(), bootstrap.now()
        )
        logger.info("webhook deliveries made", extra={"made": made})
        return {"made": made}
    finally:
        flush_metrics()


@bp.on_sqs_message(queue=WEBHOOK_QUEUE, batch_size=10, name="webhook_worker")
def webhook_worker(event):
    """One delivery attempt per message (signed POST, short timeout); a failure is queued again with
    its backoff by the service, so only a crash is reported back for SQS to redeliver."""
    try:
        return deliver_messages(event)
    finally:
        flush_metrics()


def deliver_messages(event) -> dict:
    failed = []
    sender, queue, how = bootstrap.webhook_sender(), bootstrap.webhook_queue(), bootstrap.delivery_rules()
    for record in event:
        try:
            delivery_id = json.loads(record.body)["delivery_id"]
            outcome = outbound.deliver(bootstrap.uow(), delivery_id, sender, queue, bootstrap.now(), how)
            logger.info("webhook delivery", extra={"delivery_id": delivery_id, "outcome": outcome})
        except Exception:
            logger.exception("webhook delivery failed", extra={"message_id": record.to_dict().get("messageId")})
            failed.append({"itemIdentifier": record.to_dict().get("messageId")})
    return {"batchItemFailures": failed}


def stream_record(r) -> dict:
    """A stream record as the projector takes it, from Chalice's DynamoDBRecord."""
    return {"event_name": r.event_name, "keys": r.keys, "new_image": r.new_image, "sequence_number": r.sequence_number}
