"""Table items to and from JSON lines, in DynamoDB's own typed form (lossless: numbers stay exact
strings, sets stay sets), written to a FileStore (S3 or a folder) with a SHA-256 per file."""
from __future__ import annotations

import hashlib
import json
import tempfile
from typing import Any, Iterator

from .dynamo import Table

PART_ITEMS = 5_000  # items per data file
WRITE_BATCH = 25  # BatchWriteItem's limit


def scan_raw(table: Table) -> Iterator[dict[str, Any]]:
    """Every item of the table, as the wire gives it, page by page (consistent reads)."""
    kwargs: dict[str, Any] = {"TableName": table.name, "ConsistentRead": True}
    while True:
        resp = table.retry.run(lambda: table.client.scan(**kwargs))
        yield from resp.get("Items", [])
        if "LastEvaluatedKey" not in resp:
            return
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def line(item: dict[str, Any]) -> bytes:
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


class Part:
    """One data file being written: a temporary file and its running checksum."""

    def __init__(self, name: str):
        self.name = name
        self.file = tempfile.TemporaryFile()
        self.sha = hashlib.sha256()
        self.items = 0
        self.bytes = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.sha.update(data)
        self.items += 1
        self.bytes += len(data)

    def describe(self) -> dict[str, Any]:
        return {"file": self.name, "sha256": self.sha.hexdigest(), "items": self.items, "bytes": self.bytes}


def is_empty(table: Table) -> bool:
    resp = table.retry.run(lambda: table.client.scan(TableName=table.name, Limit=1))
    return not resp.get("Items")


def write_items(table: Table, items: list[dict[str, Any]]) -> None:
    """Put raw items, 25 per BatchWriteItem, until none is left unprocessed. Restores only run into
    an empty table, so a put that is sent twice writes the same item twice: harmless."""
    for start in range(0, len(items), WRITE_BATCH):
        request = {table.name: [{"PutRequest": {"Item": i}} for i in items[start:start + WRITE_BATCH]]}
        while request:
            resp = table.retry.run(lambda: table.client.batch_write_item(RequestItems=request))
            request = resp.get("UnprocessedItems") or None
            if request:
                table.retry.sleep(table.retry.delay(1))
