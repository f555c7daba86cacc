"""tests/support/fastmoto.py gives moto's answers: the same seeded requests (writes with and without
conditions, transactions that commit and that are cancelled, each kind of failure, base-table and
index queries both ways with pages and filters, scans, and the stream) sent to moto as it is and to
moto with fast_moto() on get the same replies, request by request, and leave the same stream."""
from __future__ import annotations

import random
from typing import Any

import boto3
from botocore.exceptions import ClientError

from chalicelib.store.schema import create_table
from tests.support.fastmoto import fast_moto, _supported

TABLE = "fastmoto-equivalence"


def _requests(seed: int, n: int) -> list[tuple[str, dict[str, Any]]]:
    rnd = random.Random(seed)
    pks = [f"P#{i}" for i in range(6)]
    sks = [f"S#{i:02d}" for i in range(12)]
    gsi = [f"G#{i}" for i in range(3)]

    def key():
        return {"PK": {"S": rnd.choice(pks)}, "SK": {"S": rnd.choice(sks)}}

    def item():
        it = {**key(), "n": {"N": str(rnd.randint(-5, 5))}, "tags": {"SS": [rnd.choice("abc"), "z"]},
              "m": {"M": {"x": {"N": str(rnd.randint(0, 3))}, "l": {"L": [{"S": "q"}, {"N": "1.5"}]}}}}
        if rnd.random() < 0.7:
            it["GSI1PK"], it["GSI1SK"] = {"S": rnd.choice(gsi)}, {"S": f"t{rnd.randint(0, 9)}"}
        if rnd.random() < 0.5:
            it["GSI2PK"], it["GSI2SK"] = {"S": rnd.choice(gsi)}, {"S": f"u{rnd.randint(0, 3)}"}
        return it

    def condition(op: dict[str, Any]) -> dict[str, Any]:
        r = rnd.random()
        if r < 0.3:
            op["ConditionExpression"] = "attribute_not_exists(PK)"
        elif r < 0.5:
            op["ConditionExpression"] = "attribute_exists(PK)"
        elif r < 0.6:
            op["ConditionExpression"] = "n < :z"
            op["ExpressionAttributeValues"] = {**op.get("ExpressionAttributeValues", {}), ":z": {"N": "0"}}
        return op

    def update() -> dict[str, Any]:
        return condition({"TableName": TABLE, "Key": key(), "UpdateExpression": "ADD n :one SET m.x = :v",
                          "ExpressionAttributeValues": {":one": {"N": "1"}, ":v": {"N": str(rnd.randint(0, 9))}}})

    out: list[tuple[str, dict[str, Any]]] = []
    for _ in range(n):
        r = rnd.random()
        if r < 0.2:
            out.append(("put_item", condition({"TableName": TABLE, "Item": item()})))
        elif r < 0.3:
            out.append(("update_item", {**update(), "ReturnValues": "ALL_NEW"}))
        elif r < 0.35:
            out.append(("delete_item", condition({"TableName": TABLE, "Key": key()})))
        elif r < 0.6:
            ops = []
            for _ in range(rnd.randint(1, 5)):
                kind = rnd.random()
                if kind < 0.35:
                    ops.append({"Put": condition({"TableName": TABLE, "Item": item()})})
                elif kind < 0.65:
                    ops.append({"Update": update()})
                elif kind < 0.8:
                    ops.append({"Delete": condition({"TableName": TABLE, "Key": key()})})
                else:
                    ops.append({"ConditionCheck": {**condition({"TableName": TABLE, "Key": key()}),
                                                   "ConditionExpression": "attribute_exists(PK)"}})
            if rnd.random() < 0.05:
                ops.append({"Put": {"TableName": "no-such-table", "Item": item()}})
            out.append(("transact_write_items", {"TransactItems": ops}))
        elif r < 0.8:
            q: dict[str, Any] = {"TableName": TABLE, "KeyConditionExpression": "PK = :p",
                                 "ExpressionAttributeValues": {":p": {"S": rnd.choice(pks)}},
                                 "ScanIndexForward": rnd.random() < 0.5}
            if rnd.random() < 0.4:
                q["KeyConditionExpression"] += " AND SK BETWEEN :a AND :b"
                q["ExpressionAttributeValues"].update({":a": {"S": "S#03"}, ":b": {"S": "S#08"}})
            if rnd.random() < 0.3:
                q["FilterExpression"] = "n > :f"
                q["ExpressionAttributeValues"][":f"] = {"N": "0"}
            if rnd.random() < 0.5:
                q["Limit"] = rnd.randint(1, 4)
            out.append(("query", q))
        elif r < 0.95:
            index = rnd.choice(["GSI1", "GSI2"])
            q = {"TableName": TABLE, "IndexName": index, "KeyConditionExpression": f"{index}PK = :p",
                 "ExpressionAttributeValues": {":p": {"S": rnd.choice(gsi)}}, "ScanIndexForward": rnd.random() < 0.5}
            if rnd.random() < 0.4:
                q["KeyConditionExpression"] += f" AND begins_with({index}SK, :b)"
                q["ExpressionAttributeValues"][":b"] = {"S": "t" if index == "GSI1" else "u"}
            if rnd.random() < 0.5:
                q["Limit"] = rnd.randint(1, 5)
            out.append(("query", q))
        else:
            out.append(("scan", {"TableName": TABLE, **({"Limit": rnd.randint(1, 7)} if rnd.random() < 0.5 else {})}))
    return out


def _run(requests: list[tuple[str, dict[str, Any]]], fast: bool) -> tuple[list[Any], list[Any]]:
    from contextlib import nullcontext

    from moto import mock_aws

    replies: list[Any] = []
    with mock_aws(), (fast_moto() if fast else nullcontext()):
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        for name, kwargs in requests:
            pages = []
            while True:
                try:
                    reply = getattr(client, name)(**kwargs)
                except ClientError as e:
                    pages.append(("error", e.response["Error"]["Code"],
                                  [r.get("Code") for r in e.response.get("CancellationReasons", [])]))
                    break
                reply.pop("ResponseMetadata", None)
                reply.pop("ConsumedCapacity", None)
                pages.append(reply)
                if name in ("query", "scan") and "LastEvaluatedKey" in reply:
                    kwargs = {**kwargs, "ExclusiveStartKey": reply["LastEvaluatedKey"]}
                    continue
                break
            replies.append(pages)
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        shard = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[TABLE].stream_shard
        records = [(r["eventName"], r["dynamodb"].get("Keys"), r["dynamodb"].get("NewImage"))
                   for r in (s.to_json() for s in shard.items)]
    return replies, records


def test_fast_moto_answers_as_moto_does():
    assert _supported(), "moto's internals changed: tests/support/fastmoto.py no longer speeds it up"
    requests = _requests(seed=7, n=250)
    plain, plain_stream = _run(requests, fast=False)
    fast, fast_stream = _run(requests, fast=True)
    for i, (a, b) in enumerate(zip(plain, fast)):
        assert a == b, f"request {i} {requests[i]}: moto {a}, fast_moto {b}"
    assert plain_stream == fast_stream
    # The run reached what it is for: cancelled transactions, conditional failures, pages.
    errors = [p[0][1] for p in plain if isinstance(p[0], tuple)]
    assert errors.count("TransactionCanceledException") > 10 and "ConditionalCheckFailedException" in errors
    assert sum(len(p) > 1 for p in plain) > 10
