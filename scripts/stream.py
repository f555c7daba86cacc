"""The table's stream read outside AWS: `make run` (DynamoDB Local) and the tests (moto, DynamoDB
Local) hand its records to the same projector AWS Lambda calls (`jobs.project_figures`).

Every read starts again from the oldest record the stream keeps (TRIM_HORIZON): the projector takes
a record it has seen as a redelivery and changes nothing (store/stats.py keeps a mark per ledger
partition), so reading from the start is always correct, and it exercises that rule on every call.
"""

from __future__ import annotations

from typing import Any

import boto3

from chalicelib import bootstrap
from chalicelib.services import outbound as outbound_svc
from chalicelib.services.stream import consume
from chalicelib.store.uow import UnitOfWork


def _streams_client(dynamodb: Any) -> Any:
    """A DynamoDB Streams client beside `dynamodb`: DynamoDB Local serves both at one endpoint; AWS
    (and moto, which stands in for it) has a streams endpoint of its own."""
    meta = dynamodb.meta
    local = not meta.endpoint_url.endswith(".amazonaws.com")
    # AWS's streams endpoint spelled with its root path: moto (5.x) matches only that spelling.
    endpoint = meta.endpoint_url if local else f"https://streams.dynamodb.{meta.region_name}.amazonaws.com/"
    return boto3.client("dynamodbstreams", region_name=meta.region_name, endpoint_url=endpoint)


def records(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every record the table's stream holds, shard by shard, as the projector takes them."""
    arn = dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
    if not arn:
        return []
    streams = _streams_client(dynamodb)
    out: list[dict[str, Any]] = []
    shards: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StreamArn": arn}
    while True:
        described = streams.describe_stream(**kwargs)["StreamDescription"]
        shards += described.get("Shards", [])
        if not described.get("LastEvaluatedShardId"):
            break
        kwargs["ExclusiveStartShardId"] = described["LastEvaluatedShardId"]
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            out += [_record(r) for r in page["Records"]]
            if not page["Records"]:
                break  # an open shard always hands back a next iterator: stop at its end for now
            iterator = page.get("NextShardIterator")
    return out


class Follower:
    """Follows a table's stream as Lambda's event source does: each `poll` hands back only the records
    written since the last one, shard by shard (`make run` polls every second)."""

    def __init__(self, dynamodb: Any, table: str):
        self.dynamodb, self.table = dynamodb, table
        self.streams = _streams_client(dynamodb)
        self.iterators: dict[str, str | None] = {}

    def poll(self) -> list[dict[str, Any]]:
        arn = self.dynamodb.describe_table(TableName=self.table)["Table"].get("LatestStreamArn")
        if not arn:
            return []
        for shard in self.streams.describe_stream(StreamArn=arn)["StreamDescription"].get("Shards", []):
            if shard["ShardId"] not in self.iterators:
                self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
        out: list[dict[str, Any]] = []
        for shard_id, iterator in list(self.iterators.items()):
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                out += [_record(r) for r in page["Records"]]
                iterator = page.get("NextShardIterator")  # None once a closed shard is read to its end
                if not page["Records"]:
                    break
            self.iterators[shard_id] = iterator
        return out


def _record(r: dict[str, Any]) -> dict[str, Any]:
    change = r["dynamodb"]
    return {
        "event_name": r["eventName"],
        "keys": change["Keys"],
        "new_image": change.get("NewImage"),
        "sequence_number": change["SequenceNumber"],
    }


def drain(uow: UnitOfWork) -> int:
    """Consume what the stream of the unit of work's table holds, as jobs.project_figures would
    (services/stream.py, with the app's settings and clock); how many figures items moved."""
    done = consume(uow, records(uow.table.client, uow.table.name), bootstrap.settings(), bootstrap.now())
    return int(done["moved"])


def outbound(uow: UnitOfWork) -> int:
    """Outbound webhook deliveries for what the stream holds (as jobs.outbound_events makes them),
    queued on the process's webhook queue; how many were new."""
    return outbound_svc.fan_out(
        uow, records(uow.table.client, uow.table.name), bootstrap.webhook_queue(), bootstrap.now()
    )


def deliver_due() -> list[str]:
    """Deliver what the process's in-process webhook queue holds that is due (as jobs.webhook_worker
    does from SQS), until nothing is due; the outcomes, in order."""
    queue, sender, how = bootstrap.webhook_queue(), bootstrap.webhook_sender(), bootstrap.delivery_rules()
    outcomes: list[str] = []
    for _ in range(1000):  # a message that comes due at once again (a zero delay) is taken next round
        due = queue.take_due() if hasattr(queue, "take_due") else []
        if not due:
            break
        outcomes += [outbound_svc.deliver(bootstrap.uow(), d, sender, queue, bootstrap.now(), how) for d in due]
    return outcomes
