"""The one table's definition: the single source for infra/, the tests and the local runner."""

from __future__ import annotations

import contextlib
import time
from typing import Any

PK, SK = "PK", "SK"
GSI1, GSI1PK, GSI1SK = "GSI1", "GSI1PK", "GSI1SK"  # time-ordered lists per owner
GSI2, GSI2PK, GSI2SK = "GSI2", "GSI2PK", "GSI2SK"  # settlement: a period's work, sharded, by partner
TTL_ATTRIBUTE = "expires_at"

INDEX_KEYS = {GSI1: (GSI1PK, GSI1SK), GSI2: (GSI2PK, GSI2SK)}
STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}

KEY_SCHEMA = [
    {"AttributeName": PK, "KeyType": "HASH"},
    {"AttributeName": SK, "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS = [
    {"AttributeName": name, "AttributeType": "S"} for name in (PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK)
]
GLOBAL_SECONDARY_INDEXES = [
    {
        "IndexName": GSI1,
        "KeySchema": [
            {"AttributeName": GSI1PK, "KeyType": "HASH"},
            {"AttributeName": GSI1SK, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    },
    {
        "IndexName": GSI2,
        "KeySchema": [
            {"AttributeName": GSI2PK, "KeyType": "HASH"},
            {"AttributeName": GSI2SK, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    },
]


def create_table_kwargs(table_name: str) -> dict[str, Any]:
    return {
        "TableName": table_name,
        "KeySchema": KEY_SCHEMA,
        "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
        "GlobalSecondaryIndexes": GLOBAL_SECONDARY_INDEXES,
        "BillingMode": "PAY_PER_REQUEST",
        # New images of every write: the projector (services/projection.py) reads partners' ledgers from it.
        "StreamSpecification": STREAM,
    }


def create_table(client: Any, table_name: str) -> bool:
    """Create the table (and its TTL) if it is not there. Returns True when it was created."""
    try:
        table = client.describe_table(TableName=table_name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        table = None
    if table is not None:
        _add_missing_indexes(client, table_name, table)
        return False
    client.create_table(**create_table_kwargs(table_name))
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    with contextlib.suppress(client.exceptions.ClientError):  # some emulators lack TTL
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
    return True


def _add_missing_indexes(client: Any, table_name: str, table: dict[str, Any]) -> None:
    """A table made by an older version of this schema (say, `make run`'s persisted data) gains the
    indexes added since, one at a time, as DynamoDB requires. In AWS the stack does this."""
    have = {g["IndexName"] for g in table.get("GlobalSecondaryIndexes", [])}
    for index in GLOBAL_SECONDARY_INDEXES:
        if index["IndexName"] in have:
            continue
        client.update_table(
            TableName=table_name,
            AttributeDefinitions=ATTRIBUTE_DEFINITIONS,
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        for _ in range(120):
            described = client.describe_table(TableName=table_name)["Table"]
            status = {g["IndexName"]: g.get("IndexStatus") for g in described.get("GlobalSecondaryIndexes", [])}
            if status.get(index["IndexName"]) == "ACTIVE":
                break
            time.sleep(0.5)
