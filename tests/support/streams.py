"""The table's DynamoDB stream, drained as the projector's Lambda would take it (tests, on DynamoDB
Local): shard by shard, in order, each record in the shape `jobs.stream_record` gives the projector."""
from __future__ import annotations

from typing import Any

import boto3

from chalicelib.services import projection
from chalicelib.store.uow import UnitOfWork


def stream_record(r: dict[str, Any]) -> dict[str, Any]:
    """A record of the Streams API as the projector takes it (jobs.stream_record, from Chalice's)."""
    d = r["dynamodb"]
    return {"event_name": r["eventName"], "keys": d["Keys"], "new_image": d.get("NewImage"),
            "sequence_number": d["SequenceNumber"]}


class StreamDrain:
    """Reads a table's stream from its start (TRIM_HORIZON); each `records()` call returns what was
    added since the previous call, shard by shard in stream order."""

    MAX_EMPTY_PAGES = 3  # an open shard always has a next iterator: stop after this many empty pages

    def __init__(self, dynamodb: Any, table_name: str, endpoint: str | None = None):
        self.arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self.streams = boto3.client("dynamodbstreams", endpoint_url=endpoint or dynamodb.meta.endpoint_url,
                                    region_name=dynamodb.meta.region_name)
        self.next: dict[str, str | None] = {}  # shard id -> iterator to go on from (None: shard closed and read)

    def _shards(self) -> list[str]:
        shards, kwargs = [], {"StreamArn": self.arn}
        while True:
            desc = self.streams.describe_stream(**kwargs)["StreamDescription"]
            shards += [s["ShardId"] for s in desc["Shards"]]
            if not desc.get("LastEvaluatedShardId"):
                return shards
            kwargs["ExclusiveStartShardId"] = desc["LastEvaluatedShardId"]

    def records(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for shard in self._shards():
            if shard not in self.next:
                self.next[shard] = self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            it, empty = self.next[shard], 0
            while it is not None and empty < self.MAX_EMPTY_PAGES:
                page = self.streams.get_records(ShardIterator=it, Limit=1000)
                out += [stream_record(r) for r in page["Records"]]
                empty = 0 if page["Records"] else empty + 1
                it = page.get("NextShardIterator")
            self.next[shard] = it
        return out

    def project(self, uow: UnitOfWork) -> tuple[list[dict[str, Any]], int]:
        """Drain what is new into the projector: (the records, how many figures items moved)."""
        records = self.records()
        return records, projection.project(uow, records)
