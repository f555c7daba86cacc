"""An in-memory DynamoDB with the low-level client's interface (the calls chalicelib/store makes),
for benchmarks that run the real app through hundreds of thousands of calls.

Why not moto or DynamoDB Local underneath: moto deep-copies every table on every
TransactWriteItems (O(table) per order: seconds per order once the benchmark's 10,000-partner tree is
in), and both go through botocore's serialiser and an HTTP round trip (DynamoDB Local: a JVM on the
same 2 cores), 2-20 ms per call. This one takes the request dicts the app builds and answers in
DynamoDB's wire format, with DynamoDB's own error classes (built by botocore from the service model,
so `except client.exceptions.X` and ClientError codes behave as with a real client).
tests/unit/test_memory_dynamodb.py runs the app's own flows against it and moto side by side and
requires the same answers.

Not modelled: anything the app does not call (PartiQL, TransactGetItems, streams, LSIs, TTL
deletion), keys of types other than S."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterator

from sortedcontainers import SortedList

from .capacity import item_size
from .expressions import (ValidationError, apply_update, check_placeholders, condition_holds, copy_item,
                          parse_condition, resolve_path, _Scope)

Item = dict[str, Any]
PAGE_BYTES = 1024 * 1024
_MAX = "\U0010ffff" * 8


@lru_cache(maxsize=1)
def _botocore_client():
    """A real botocore DynamoDB client, never called: it lends its modeled exception classes."""
    import boto3

    return boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="memory",
                        aws_secret_access_key="memory", endpoint_url="http://127.0.0.1:9")


# Which modeled errors carry "Message" rather than "message" (as botocore parses them).
_CAPITAL_MESSAGE = {"TransactionCanceledException", "IdempotentParameterMismatchException",
                    "TransactionInProgressException"}


def client_error(code: str, message: str, operation: str, **extra: Any) -> Exception:
    """The exception botocore raises for an error reply with this code."""
    client = _botocore_client()
    response = {"Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": 0},
                ("Message" if code in _CAPITAL_MESSAGE else "message"): message, **extra}
    if code == "ValidationException":
        response.pop("message")
    return client.exceptions.from_code(code)(response, operation)


class _Waiter:
    def wait(self, **_: Any) -> None:
        return None


class _Table:
    def __init__(self, spec: dict[str, Any]):
        self.name = spec["TableName"]
        types = {a["AttributeName"]: a["AttributeType"] for a in spec["AttributeDefinitions"]}
        self.hash_key, self.range_key = _keys(spec["KeySchema"])
        self.indexes: dict[str, tuple[str, str | None]] = {
            g["IndexName"]: _keys(g["KeySchema"]) for g in spec.get("GlobalSecondaryIndexes", [])}
        for attr in (self.hash_key, self.range_key, *(k for ks in self.indexes.values() for k in ks)):
            if attr is not None and types.get(attr) != "S":
                raise ValueError("the in-memory table supports string keys only")
        self.spec = spec
        self.items: dict[tuple[str, str], Item] = {}
        self.sizes: dict[tuple[str, str], int] = {}
        self.sort_keys: dict[str, SortedList] = {}
        self.index_rows: dict[str, dict[str, SortedList]] = {name: {} for name in self.indexes}
        # Partition keys whose sorted rows changed since `touched` was last cleared (World.restore).
        self.touched: set[tuple[str | None, str]] = set()
        self.key_names = tuple(k for k in (self.hash_key, self.range_key) if k)

    # ---- keys -------------------------------------------------------------------------------
    def key_of(self, key: Item, operation: str) -> tuple[str, str]:
        names = set(key)
        if names != set(self.key_names):
            raise client_error("ValidationException", "The provided key element does not match the schema",
                               operation)
        try:
            return key[self.hash_key]["S"], key[self.range_key]["S"] if self.range_key else ""
        except KeyError:
            raise client_error("ValidationException", "The provided key element does not match the schema",
                               operation) from None

    def item_key(self, item: Item, operation: str) -> tuple[str, str]:
        try:
            return self.key_of({k: item[k] for k in self.key_names}, operation)
        except KeyError:
            raise client_error("ValidationException", "One or more parameter values were invalid: Missing the "
                               "key in the item", operation) from None

    def key_item(self, k: tuple[str, str]) -> Item:
        out = {self.hash_key: {"S": k[0]}}
        if self.range_key:
            out[self.range_key] = {"S": k[1]}
        return out

    # ---- storage ----------------------------------------------------------------------------
    def store(self, k: tuple[str, str], item: Item | None, size: int | None = None) -> None:
        """Keep `item` (never changed afterwards: a write stores a new object) and its size."""
        old = self.items.get(k)
        if old is not None:
            self._unindex(k, old)
        if item is None:
            if old is not None:
                del self.items[k]
                self.sizes.pop(k, None)
                self.touched.add((None, k[0]))
                rows = self.sort_keys[k[0]]
                rows.remove(k[1])
                if not rows:
                    del self.sort_keys[k[0]]
            return
        if old is None:
            self.touched.add((None, k[0]))
            self.sort_keys.setdefault(k[0], SortedList()).add(k[1])
        self.items[k] = item
        if size is None:
            self.sizes.pop(k, None)  # worked out when first asked (peek_size)
        else:
            self.sizes[k] = size
        self._index(k, item)

    def _index(self, k: tuple[str, str], item: Item) -> None:
        for name, (ipk, isk) in self.indexes.items():
            row = self._index_row(k, item, ipk, isk)
            if row is not None:
                self.touched.add((name, row[0]))
                self.index_rows[name].setdefault(row[0], SortedList()).add(row[1])

    def _unindex(self, k: tuple[str, str], item: Item) -> None:
        for name, (ipk, isk) in self.indexes.items():
            row = self._index_row(k, item, ipk, isk)
            if row is not None:
                self.touched.add((name, row[0]))
                rows = self.index_rows[name][row[0]]
                rows.remove(row[1])
                if not rows:
                    del self.index_rows[name][row[0]]

    @staticmethod
    def _index_row(k: tuple[str, str], item: Item, ipk: str, isk: str | None):
        pk_value = item.get(ipk)
        if pk_value is None or "S" not in pk_value:
            return None
        if isk is None:
            return pk_value["S"], ("", k[0], k[1])
        sk_value = item.get(isk)
        if sk_value is None or "S" not in sk_value:
            return None
        return pk_value["S"], (sk_value["S"], k[0], k[1])

    def check_item(self, item: Item, operation: str) -> int:
        """Refuse an item DynamoDB would refuse; its size otherwise."""
        for name, (ipk, isk) in self.indexes.items():
            for attr in (ipk, isk):
                if attr and attr in item and "S" not in item[attr]:
                    raise client_error("ValidationException", f"One or more parameter values were invalid: Type "
                                       f"mismatch for Index Key {attr} Expected: S Actual: "
                                       f"{next(iter(item[attr]))} IndexName: {name}", operation)
                if attr and attr in item and item[attr].get("S") == "":
                    raise client_error("ValidationException", "One or more parameter values are not valid. A value "
                                       "specified for a secondary index key is not supported. The AttributeValue "
                                       f"for a key attribute cannot contain an empty string value. IndexName: {name},"
                                       f" IndexKey: {attr}", operation)
        size = item_size(item)
        if size > 400 * 1024:
            raise client_error("ValidationException", "Item size has exceeded the maximum allowed size", operation)
        return size


def _keys(key_schema: list[dict[str, str]]) -> tuple[str, str | None]:
    h = next(k["AttributeName"] for k in key_schema if k["KeyType"] == "HASH")
    r = next((k["AttributeName"] for k in key_schema if k["KeyType"] == "RANGE"), None)
    return h, r


class MemoryDynamoDB:
    """The subset of the boto3 DynamoDB client that Upline calls, over dicts in memory."""

    def __init__(self) -> None:
        self.tables: dict[str, _Table] = {}
        self.exceptions = _botocore_client().exceptions
        self._tokens: dict[str, list[dict[str, Any]]] = {}

    def _table(self, name: str, operation: str) -> _Table:
        try:
            return self.tables[name]
        except KeyError:
            raise client_error("ResourceNotFoundException", "Requested resource not found", operation) from None

    # ---- tables -------------------------------------------------------------------------------
    def create_table(self, **spec: Any) -> dict[str, Any]:
        if spec["TableName"] in self.tables:
            raise client_error("ResourceInUseException", f"Table already exists: {spec['TableName']}", "CreateTable")
        self.tables[spec["TableName"]] = _Table(spec)
        return {"TableDescription": self._describe(spec["TableName"])}

    def _describe(self, name: str) -> dict[str, Any]:
        t = self._table(name, "DescribeTable")
        return {"TableName": name, "TableStatus": "ACTIVE", "KeySchema": t.spec["KeySchema"],
                "AttributeDefinitions": t.spec["AttributeDefinitions"], "ItemCount": len(t.items),
                "GlobalSecondaryIndexes": [{**g, "IndexStatus": "ACTIVE"}
                                           for g in t.spec.get("GlobalSecondaryIndexes", [])]}

    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {"Table": self._describe(TableName)}

    def delete_table(self, TableName: str) -> dict[str, Any]:
        self._table(TableName, "DeleteTable")
        del self.tables[TableName]
        return {}

    def update_time_to_live(self, TableName: str, TimeToLiveSpecification: dict[str, Any]) -> dict[str, Any]:
        self._table(TableName, "UpdateTimeToLive")
        return {"TimeToLiveSpecification": TimeToLiveSpecification}

    def get_waiter(self, _name: str) -> _Waiter:
        return _Waiter()

    # ---- reads --------------------------------------------------------------------------------
    def peek(self, table: str, key: Item) -> Item | None:
        """The stored item (for the emulation's capacity accounting)."""
        t = self._table(table, "GetItem")
        return t.items.get(t.key_of(key, "GetItem"))

    def peek_size(self, table: str, key: Item) -> int:
        t = self._table(table, "GetItem")
        k = t.key_of(key, "GetItem")
        size = t.sizes.get(k)
        if size is None:
            size = t.sizes[k] = item_size(t.items.get(k))
        return size

    def get_item(self, TableName: str, Key: Item, ConsistentRead: bool = False,
                 ProjectionExpression: str | None = None, ExpressionAttributeNames: dict | None = None,
                 **_: Any) -> dict[str, Any]:
        t = self._table(TableName, "GetItem")
        item = t.items.get(t.key_of(Key, "GetItem"))
        if item is None:
            return {}
        return {"Item": _project(item, ProjectionExpression, ExpressionAttributeNames)}

    def batch_get_item(self, RequestItems: dict[str, Any], **_: Any) -> dict[str, Any]:
        total = sum(len(r["Keys"]) for r in RequestItems.values())
        if total > 100:
            raise client_error("ValidationException", "Too many items requested for the BatchGetItem call",
                               "BatchGetItem")
        responses: dict[str, list[Item]] = {}
        for name, request in RequestItems.items():
            t = self._table(name, "BatchGetItem")
            keys = [t.key_of(k, "BatchGetItem") for k in request["Keys"]]
            if len(set(keys)) != len(keys):
                raise client_error("ValidationException", "Provided list of item keys contains duplicates",
                                   "BatchGetItem")
            found = responses.setdefault(name, [])
            for k in keys:
                item = t.items.get(k)
                if item is not None:
                    found.append(_project(item, request.get("ProjectionExpression"),
                                          request.get("ExpressionAttributeNames")))
        return {"Responses": responses, "UnprocessedKeys": {}}

    def query(self, TableName: str, KeyConditionExpression: str, IndexName: str | None = None,
              FilterExpression: str | None = None, ExpressionAttributeNames: dict | None = None,
              ExpressionAttributeValues: dict | None = None, Select: str | None = None, Limit: int | None = None,
              ExclusiveStartKey: Item | None = None, ScanIndexForward: bool = True,
              ProjectionExpression: str | None = None, ConsistentRead: bool = False, **_: Any) -> dict[str, Any]:
        t = self._table(TableName, "Query")
        _checked(lambda: check_placeholders([KeyConditionExpression, FilterExpression, ProjectionExpression],
                                            ExpressionAttributeNames, ExpressionAttributeValues), "Query")
        if IndexName is not None:
            if IndexName not in t.indexes:
                raise client_error("ValidationException", "The table does not have the specified index: "
                                   f"{IndexName}", "Query")
            if ConsistentRead:
                raise client_error("ValidationException", "Consistent reads are not supported on global "
                                   "secondary indexes", "Query")
            hk, rk = t.indexes[IndexName]
        else:
            hk, rk = t.hash_key, t.range_key
        scope = _Scope(ExpressionAttributeNames, ExpressionAttributeValues)
        pk_value, sk_test = _checked(lambda: _key_condition(KeyConditionExpression, scope, hk, rk), "Query")
        rows = self._rows(t, IndexName, pk_value, sk_test, ExclusiveStartKey, ScanIndexForward)
        items, count, scanned, size, last = [], 0, 0, 0, None
        for k, row_key in rows:
            item = t.items[k]
            scanned += 1
            size += item_size(item)
            if FilterExpression is None or _checked(lambda: condition_holds(
                    FilterExpression, item, ExpressionAttributeNames, ExpressionAttributeValues), "Query"):
                count += 1
                if Select != "COUNT":
                    items.append(_project(item, ProjectionExpression, ExpressionAttributeNames))
            if (Limit is not None and scanned >= Limit) or size >= PAGE_BYTES:
                last = self._last_key(t, IndexName, k, item)
                break
        out: dict[str, Any] = {"Count": count, "ScannedCount": scanned}
        if Select != "COUNT":
            out["Items"] = items
        if last is not None:  # a page cut by Limit or size names its last key, more items or not
            out["LastEvaluatedKey"] = last
        return out

    def _rows(self, t: _Table, index: str | None, pk_value: str, sk_test, start: Item | None,
              forward: bool) -> Iterator[tuple[tuple[str, str], Any]]:
        if index is None:
            sks = t.sort_keys.get(pk_value)
            if not sks:
                return iter(())
            lo, hi = sk_test.bounds()
            candidates = sks.irange(lo, hi, reverse=not forward)
            if start is not None:
                after = start[t.range_key]["S"]
                candidates = (s for s in candidates if (s > after if forward else s < after))
            return (((pk_value, s), s) for s in candidates if sk_test.ok(s))
        rows = t.index_rows[index].get(pk_value)
        if not rows:
            return iter(())
        lo, hi = sk_test.bounds()
        candidates = rows.irange((lo,) if lo is not None else None, (hi, _MAX, _MAX) if hi is not None else None,
                                 reverse=not forward)
        if start is not None:
            _, isk = t.indexes[index]
            mark = (start[isk]["S"] if isk else "", start[t.hash_key]["S"],
                    start[t.range_key]["S"] if t.range_key else "")
            candidates = (r for r in candidates if (r > mark if forward else r < mark))
        return (((r[1], r[2]), r) for r in candidates if sk_test.ok(r[0]))

    @staticmethod
    def _last_key(t: _Table, index: str | None, k: tuple[str, str], item: Item) -> Item:
        out = t.key_item(k)
        if index is not None:
            for attr in t.indexes[index]:
                if attr:
                    out[attr] = dict(item[attr])
        return out

    def scan(self, TableName: str, Limit: int | None = None, ExclusiveStartKey: Item | None = None,
             ConsistentRead: bool = False, **_: Any) -> dict[str, Any]:
        t = self._table(TableName, "Scan")
        keys = sorted(t.items)
        if ExclusiveStartKey is not None:
            after = t.key_of(ExclusiveStartKey, "Scan")
            keys = [k for k in keys if k > after]
        items, size, last = [], 0, None
        for k in keys:
            item = t.items[k]
            items.append(copy_item(item))
            size += item_size(item)
            if (Limit is not None and len(items) >= Limit) or size >= PAGE_BYTES:
                last = t.key_item(k)
                break
        out: dict[str, Any] = {"Items": items, "Count": len(items), "ScannedCount": len(items)}
        if last is not None:
            out["LastEvaluatedKey"] = last
        return out

    # ---- writes -------------------------------------------------------------------------------
    def put_item(self, TableName: str, Item: Item, ConditionExpression: str | None = None,
                 ExpressionAttributeNames: dict | None = None, ExpressionAttributeValues: dict | None = None,
                 ReturnValues: str = "NONE", **_: Any) -> dict[str, Any]:
        t = self._table(TableName, "PutItem")
        k = t.item_key(Item, "PutItem")
        _checked(lambda: check_placeholders([ConditionExpression], ExpressionAttributeNames,
                                            ExpressionAttributeValues), "PutItem")
        old = t.items.get(k)
        self._condition(ConditionExpression, old, ExpressionAttributeNames, ExpressionAttributeValues, "PutItem")
        t.store(k, Item, t.check_item(Item, "PutItem"))
        return {"Attributes": copy_item(old)} if ReturnValues == "ALL_OLD" and old else {}

    def update_item(self, TableName: str, Key: Item, UpdateExpression: str,
                    ConditionExpression: str | None = None, ExpressionAttributeNames: dict | None = None,
                    ExpressionAttributeValues: dict | None = None, ReturnValues: str = "NONE",
                    **_: Any) -> dict[str, Any]:
        t = self._table(TableName, "UpdateItem")
        k = t.key_of(Key, "UpdateItem")
        _checked(lambda: check_placeholders([UpdateExpression, ConditionExpression], ExpressionAttributeNames,
                                            ExpressionAttributeValues), "UpdateItem")
        old = t.items.get(k)
        self._condition(ConditionExpression, old, ExpressionAttributeNames, ExpressionAttributeValues,
                        "UpdateItem")
        new, size = self._updated(t, k, old, UpdateExpression, ExpressionAttributeNames,
                                  ExpressionAttributeValues, "UpdateItem")
        t.store(k, new, size)
        if ReturnValues == "ALL_NEW":
            return {"Attributes": copy_item(new)}
        if ReturnValues == "ALL_OLD" and old:
            return {"Attributes": copy_item(old)}
        return {}

    def delete_item(self, TableName: str, Key: Item, ConditionExpression: str | None = None,
                    ExpressionAttributeNames: dict | None = None, ExpressionAttributeValues: dict | None = None,
                    ReturnValues: str = "NONE", **_: Any) -> dict[str, Any]:
        t = self._table(TableName, "DeleteItem")
        k = t.key_of(Key, "DeleteItem")
        old = t.items.get(k)
        self._condition(ConditionExpression, old, ExpressionAttributeNames, ExpressionAttributeValues,
                        "DeleteItem")
        t.store(k, None)
        return {"Attributes": copy_item(old)} if ReturnValues == "ALL_OLD" and old else {}

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]], **_: Any) -> dict[str, Any]:
        if sum(len(v) for v in RequestItems.values()) > 25:
            raise client_error("ValidationException", "Too many items requested for the BatchWriteItem call",
                               "BatchWriteItem")
        for name, requests in RequestItems.items():
            t = self._table(name, "BatchWriteItem")
            for r in requests:
                if "PutRequest" in r:
                    item = r["PutRequest"]["Item"]
                    t.store(t.item_key(item, "BatchWriteItem"), item, t.check_item(item, "BatchWriteItem"))
                else:
                    t.store(t.key_of(r["DeleteRequest"]["Key"], "BatchWriteItem"), None)
        return {"UnprocessedItems": {}}

    def transact_write_items(self, TransactItems: list[dict[str, Any]], ClientRequestToken: str | None = None,
                             **_: Any) -> dict[str, Any]:
        op_name = "TransactWriteItems"
        if not TransactItems or len(TransactItems) > 100:
            raise client_error("ValidationException", "1 validation error detected: Value at 'transactItems' "
                               "failed to satisfy constraint: Member must have length between 1 and 100", op_name)
        if ClientRequestToken is not None:
            seen = self._tokens.get(ClientRequestToken)
            if seen is not None:
                if seen != TransactItems:
                    raise client_error("IdempotentParameterMismatchException", "The request uses the same client "
                                       "token as a previous, but non-identical request.", op_name)
                return {}  # a replay of a committed transaction: DynamoDB answers it as a success
        plans, reasons, targets = [], [], set()
        for op in TransactItems:
            if len(op) != 1:
                raise client_error("ValidationException", "TransactItems can only contain one of Check, Put, "
                                   "Update or Delete", op_name)
            (kind, body), = op.items()
            t = self._table(body["TableName"], op_name)
            k = t.item_key(body["Item"], op_name) if kind == "Put" else t.key_of(body["Key"], op_name)
            if (t.name, k) in targets:
                raise client_error("ValidationException", "Transaction request cannot include multiple operations "
                                   "on one item", op_name)
            targets.add((t.name, k))
            names, values = body.get("ExpressionAttributeNames"), body.get("ExpressionAttributeValues")
            _checked(lambda: check_placeholders([body.get("ConditionExpression"), body.get("UpdateExpression")],
                                                names, values), op_name)
            if kind == "ConditionCheck" and not body.get("ConditionExpression"):
                raise client_error("ValidationException", "The ConditionCheck action requires a condition",
                                   op_name)
            old = t.items.get(k)
            ok = _checked(lambda: condition_holds(body.get("ConditionExpression"), old, names, values), op_name)
            size = None
            if kind == "Put":
                new = body["Item"]
                size = t.check_item(new, op_name)
            elif kind == "Update":
                new, size = self._updated(t, k, old, body["UpdateExpression"], names, values, op_name)
            elif kind == "Delete":
                new = None
            else:
                new = old
            reasons.append({"Code": "None"} if ok else
                           {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"})
            if kind != "ConditionCheck":
                plans.append((t, k, new, size))
        if any(r["Code"] != "None" for r in reasons):
            codes = ", ".join(r["Code"] for r in reasons)
            raise client_error("TransactionCanceledException", "Transaction cancelled, please refer cancellation "
                               f"reasons for specific reasons [{codes}]", op_name, CancellationReasons=reasons)
        for t, k, new, size in plans:
            t.store(k, new, size)
        if ClientRequestToken is not None:
            self._tokens[ClientRequestToken] = TransactItems  # requests are not changed after the call
        return {}

    # ---- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _condition(expression: str | None, item: Item | None, names: dict | None, values: dict | None,
                   operation: str) -> None:
        if expression and not _checked(lambda: condition_holds(expression, item, names, values), operation):
            raise client_error("ConditionalCheckFailedException", "The conditional request failed", operation)

    @staticmethod
    def _updated(t: _Table, k: tuple[str, str], old: Item | None, expression: str, names: dict | None,
                 values: dict | None, operation: str) -> tuple[Item, int]:
        base = dict(old) if old is not None else t.key_item(k)  # apply_update copies on write
        new = _checked(lambda: apply_update(expression, base, t.key_names, names, values), operation)
        return new, t.check_item(new, operation)


def _checked(fn, operation: str):
    try:
        return fn()
    except ValidationError as e:
        raise client_error("ValidationException", str(e), operation) from None


def _project(item: Item, projection: str | None, names: dict | None) -> Item:
    """The stored item itself (stored items are never changed: see _Table.store), or its projection."""
    if not projection:
        return item
    scope = _Scope(names, None)
    out: Item = {}
    for part in projection.split(","):
        tree = parse_condition(f"attribute_exists({part.strip()})")[2][0]
        if len(tree[1]) != 1:
            raise client_error("ValidationException", "nested projections are not supported by the in-memory "
                               "table", "Query")
        name = scope.name(tree[1][0])
        value = resolve_path(item, tree, scope)
        if value is not None:
            out[name] = copy_item({name: value})[name]
    return out


class _SortTest:
    """The sort-key part of a key condition: bounds for the sorted index, and the exact test."""

    def __init__(self, op: str | None = None, a: str | None = None, b: str | None = None):
        self.op, self.a, self.b = op, a, b

    def bounds(self) -> tuple[str | None, str | None]:
        op, a, b = self.op, self.a, self.b
        if op is None:
            return None, None
        if op == "=":
            return a, a
        if op == "begins_with":
            return a, a + _MAX
        if op == "between":
            return a, b
        if op in ("<", "<="):
            return None, a
        return a, None  # > and >=

    def ok(self, s: str) -> bool:
        op, a, b = self.op, self.a, self.b
        if op is None:
            return True
        if op == "=":
            return s == a
        if op == "begins_with":
            return s.startswith(a)
        if op == "between":
            return a <= s <= b
        return s < a if op == "<" else s <= a if op == "<=" else s > a if op == ">" else s >= a


def _key_condition(expression: str, scope: _Scope, hk: str, rk: str | None) -> tuple[str, _SortTest]:
    tree = parse_condition(expression)
    parts = [tree[1], tree[2]] if tree[0] == "and" else [tree]
    pk_value, sort = None, _SortTest()
    for part in parts:
        if part[0] == "cmp" and part[2][0] == "path" and scope.name(part[2][1][0]) == hk and part[1] == "=":
            pk_value = scope.value(part[3][1]).get("S")
        elif part[0] == "cmp" and part[2][0] == "path" and rk and scope.name(part[2][1][0]) == rk:
            sort = _SortTest(part[1], scope.value(part[3][1]).get("S"))
        elif part[0] == "between" and rk and scope.name(part[1][1][0]) == rk:
            sort = _SortTest("between", scope.value(part[2][1]).get("S"), scope.value(part[3][1]).get("S"))
        elif part[0] == "fn" and part[1] == "begins_with" and rk and scope.name(part[2][0][1][0]) == rk:
            sort = _SortTest("begins_with", scope.value(part[2][1][1]).get("S"))
        else:
            raise ValidationError("Query key condition not supported")
    if pk_value is None:
        raise ValidationError("Query condition missed key schema element")
    return pk_value, sort
