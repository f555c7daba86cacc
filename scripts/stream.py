"""The table's stream read outside AWS: `make run` (DynamoDB Local) and the tests (moto, DynamoDB
Local) hand its records to the same projector AWS Lambda calls (`jobs.project_figures`).

Every read starts again from the oldest record the stream keeps (TRIM_HORIZON): the projector takes
a record it has seen as a redelivery and changes nothing (store/stats.py keeps a mark per ledger
partition), so reading from the start is always correct, and it exercises that rule on every call.
"""
from __future__ import annotations

from typing import Any

import boto3

from chalicelib.services import projection
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
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for r in page["Records"]:
                change = r["dynamodb"]
                out.append({"event_name": r["eventName"], "keys": change["Keys"],
                            "new_image": change.get("NewImage"), "sequence_number": change["SequenceNumber"]})
            if not page["Records"]:
                break  # an open shard always hands back a next iterator: stop at its end for now
            iterator = page.get("NextShardIterator")
    return out


def drain(uow: UnitOfWork) -> int:
    """Project what the stream of the unit of work's table holds; how many figures items moved."""
    return projection.project(uow, records(uow.table.client, uow.table.name))
