"""A thin wrapper over the low-level DynamoDB client: item codec, batch reads, transactions,
queries, and the translation of DynamoDB errors into domain errors."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict, TooSlow
from . import ops, schema
from .expressions import Expression
from .keys import Key

_ser = TypeSerializer()
_de = TypeDeserializer()

BATCH_GET_LIMIT = 100
TRANSACT_LIMIT = 100


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# DynamoDB numbers hold 38 significant digits; larger ints go the general way (which refuses them).
_MAX_FAST_INT = 10**38


def attribute_value(value: Any) -> dict[str, Any]:
    """One value in DynamoDB's wire format. The types Upline stores (str, int, bool, list, dict) are
    written directly; anything else goes through boto3's TypeSerializer, which gives the same
    result for these types at several times the cost (it was most of the order path's own Python)."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int and -_MAX_FAST_INT < value < _MAX_FAST_INT:
        return {"N": str(value)}
    if kind is bool:
        return {"BOOL": value}
    if kind is dict:
        return {"M": {k: attribute_value(v) for k, v in value.items()}}
    if kind is list:
        return {"L": [attribute_value(v) for v in value]}
    return _ser.serialize(value)


def encode(item: dict[str, Any]) -> dict[str, Any]:
    return {k: attribute_value(v) for k, v in item.items() if v is not None}


def plain_value(value: dict[str, Any]) -> Any:
    """One value from DynamoDB's wire format, with whole numbers as int (other numbers stay
    Decimal). Strings, whole numbers, booleans, nulls, lists and maps are read directly;
    anything else goes through boto3's TypeDeserializer, with the same result."""
    if len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "S":
            return raw
        if tag == "N" and raw.isascii() and (raw.isdigit() or (raw[:1] == "-" and raw[1:].isdigit())):
            return int(raw)
        if tag == "M":
            return {k: plain_value(v) for k, v in raw.items()}
        if tag == "L":
            return [plain_value(v) for v in raw]
        if tag == "BOOL":
            return raw
    return _plain(_de.deserialize(value))


def decode(item: dict[str, Any]) -> dict[str, Any]:
    return {k: plain_value(v) for k, v in item.items()}


def key_of(key: Key) -> dict[str, Any]:
    return {schema.PK: {"S": key[0]}, schema.SK: {"S": key[1]}}


def with_key(key: Key, attrs: dict[str, Any]) -> dict[str, Any]:
    return {schema.PK: key[0], schema.SK: key[1], **attrs}


class Op:
    """One action inside a TransactWriteItems call."""

    @staticmethod
    def put_new(key: Key, attrs: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"Item": encode(with_key(key, attrs)), "ConditionExpression": "attribute_not_exists(PK)"}}

    @staticmethod
    def put(
        key: Key,
        attrs: dict[str, Any],
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        put: dict[str, Any] = {"Item": encode(with_key(key, attrs))}
        _add_condition(put, condition, names, values)
        return {"Put": put}

    @staticmethod
    def update(
        key: Key,
        expression: str,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        condition: str | None = None,
    ) -> dict[str, Any]:
        upd: dict[str, Any] = {"Key": key_of(key), "UpdateExpression": expression}
        _add_condition(upd, condition, names, values)
        return {"Update": upd}

    @staticmethod
    def check(
        key: Key, condition: str, names: dict[str, str] | None = None, values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        chk: dict[str, Any] = {"Key": key_of(key)}
        _add_condition(chk, condition, names, values)
        return {"ConditionCheck": chk}

    @staticmethod
    def delete(key: Key) -> dict[str, Any]:
        return {"Delete": {"Key": key_of(key)}}


def _add_condition(
    target: dict[str, Any], condition: str | None, names: dict[str, str] | None, values: dict[str, Any] | None
) -> None:
    if condition:
        target["ConditionExpression"] = condition
    if names:
        target["ExpressionAttributeNames"] = names
    if values:
        target["ExpressionAttributeValues"] = {k: attribute_value(v) for k, v in values.items()}


# ---- retries ----------------------------------------------------------------------------------
# botocore already retries inside one client call; these retries sit above it, for what is left when
# botocore gives up or cannot see the problem (a reply lost after the write, a conflicting transaction).
# Every write Upline makes is safe to send twice: put_new and the first op of every transaction say
# "already done" (AlreadyExists), unconditional puts and SETs write the same values again, and ADD
# counters only ever move inside a transaction with such a put. Transactions also carry one
# ClientRequestToken across the retries, so DynamoDB itself recognises a replay of a write whose reply
# was lost and answers it as a success.
THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
}
RETRYABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "None"}
TRANSIENT = (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError)


# The instant (time.monotonic) past which this request may send no write: set by the API's
# middleware for each request, unset for jobs. Every write and every retry of one checks it, so
# nothing a request decided can land later than its start plus UPLINE_MAX_REQUEST_SECONDS plus one
# call's timeouts (config.CALL_SECONDS) — the bound the effectivity fence is set above.
DEADLINE: ContextVar[float | None] = ContextVar("upline_write_deadline", default=None)


def check_deadline() -> None:
    deadline = DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline:
        raise TooSlow()


@dataclass
class Retry:
    """Capped exponential backoff with full jitter. `sleep` and `rng` are injectable so a simulation
    can run thousands of retries deterministically and without waiting."""

    attempts: int = 4
    base_seconds: float = 0.02
    cap_seconds: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.cap_seconds, self.base_seconds * (2**attempt)))

    def run(self, call: Callable[[], Any], write: bool = False) -> Any:
        for attempt in range(self.attempts):
            if write:
                check_deadline()
            try:
                return call()
            except TRANSIENT:
                if attempt == self.attempts - 1:
                    raise
            except ClientError as e:
                if attempt == self.attempts - 1 or not retryable(e):
                    raise
            self.sleep(self.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover


def retryable(e: ClientError) -> bool:
    code = _code(e)
    if code in THROTTLED:
        return True
    if code == "TransactionCanceledException":
        reasons = [r.get("Code", "None") for r in e.response.get("CancellationReasons", [])]
        return bool(reasons) and set(reasons) <= RETRYABLE_REASONS and set(reasons) != {"None"}
    return False


class Table:
    """The one table, through a low-level client given from outside (so tests can swap it)."""

    def __init__(self, client: Any, name: str, retry: Retry | None = None):
        self.client = client
        self.name = name
        self.retry = retry or Retry()

    def get(self, key: Key, consistent: bool = True, attrs: tuple[str, ...] = ()) -> dict[str, Any] | None:
        """One item, or only its `attrs` when given (a smaller reply; the read costs the same)."""
        extra: dict[str, Any] = {}
        if attrs:
            extra = {
                "ProjectionExpression": ", ".join(f"#a{i}" for i in range(len(attrs))),
                "ExpressionAttributeNames": {f"#a{i}": a for i, a in enumerate(attrs)},
            }
        resp = self.retry.run(
            lambda: self.client.get_item(TableName=self.name, Key=key_of(key), ConsistentRead=consistent, **extra)
        )
        item = resp.get("Item")
        return decode(item) if item else None

    def batch_get(self, keys: Iterable[Key], consistent: bool = True) -> dict[Key, dict[str, Any]]:
        """All the items that exist among `keys`, in one round trip (more only when DynamoDB
        hands back unprocessed keys)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[Key, dict[str, Any]] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            batch = [key_of(k) for k in wanted[start : start + BATCH_GET_LIMIT]]
            request: dict[str, Any] | None = {self.name: {"Keys": batch, "ConsistentRead": consistent}}
            while request:
                resp = self.retry.run(partial(self.client.batch_get_item, RequestItems=request))
                for raw in resp.get("Responses", {}).get(self.name, []):
                    item = decode(raw)
                    found[(item[schema.PK], item[schema.SK])] = item
                request = resp.get("UnprocessedKeys") or None
        return found

    def put_new(self, key: Key, attrs: dict[str, Any]) -> None:
        try:
            item = encode(with_key(key, attrs))
            self.retry.run(
                lambda: self.client.put_item(
                    TableName=self.name, Item=item, ConditionExpression="attribute_not_exists(PK)"
                )
            )
        except ClientError as e:
            if _code(e) == "ConditionalCheckFailedException":
                raise AlreadyExists(f"{key[0]} already exists") from None
            raise

    def put(self, key: Key, attrs: dict[str, Any]) -> None:
        item = encode(with_key(key, attrs))
        self.retry.run(lambda: self.client.put_item(TableName=self.name, Item=item))

    def update(
        self,
        key: Key,
        expression: str,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        condition: str | None = None,
    ) -> bool:
        """Returns False when the condition did not hold."""
        kwargs = Op.update(key, expression, names, values, condition)["Update"]
        try:
            self.retry.run(lambda: self.client.update_item(TableName=self.name, **kwargs))
            return True
        except ClientError as e:
            if _code(e) == "ConditionalCheckFailedException":
                return False
            raise

    def delete(self, key: Key) -> None:
        self.retry.run(lambda: self.client.delete_item(TableName=self.name, Key=key_of(key)))

    def transact(self, ops: list[Any]) -> None:
        """Commit all of `ops` or none. A failed condition on the first op (by convention the
        item whose existence means 'already done') raises AlreadyExists; any other failed
        condition or a conflicting transaction raises ConcurrentUpdate. Typed operations
        (store/ops.py) may sit beside the older op dicts while the areas move to the unit of work."""
        if not ops:
            return
        ops = [dict([self._request(op)]) if not isinstance(op, dict) else op for op in ops]
        if len(ops) > TRANSACT_LIMIT:
            raise Conflict("too many changes for one transaction", code="transaction_too_large")
        for op in ops:
            next(iter(op.values()))["TableName"] = self.name
        token = uuid.uuid4().hex  # one token for every retry of this one transaction
        try:
            self.retry.run(lambda: self.client.transact_write_items(TransactItems=ops, ClientRequestToken=token))
        except ClientError as e:
            if _code(e) != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in e.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise AlreadyExists("already written") from None
            raise ConcurrentUpdate(f"transaction cancelled: {reasons}") from None

    def count(
        self, pk: str, *, index: str, filter_expression: str, names: dict[str, str], values: dict[str, Any]
    ) -> int:
        """How many items under one index partition match a filter: DynamoDB reads them all but
        sends back only the count."""
        pk_name = schema.INDEX_KEYS[index][0]
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": index,
            "Select": "COUNT",
            "KeyConditionExpression": "#pk = :pk",
            "FilterExpression": filter_expression,
            "ExpressionAttributeNames": {"#pk": pk_name, **names},
            "ExpressionAttributeValues": {":pk": {"S": pk}, **{k: _ser.serialize(v) for k, v in values.items()}},
        }
        total = 0
        while True:
            resp = self.retry.run(lambda: self.client.query(**kwargs))
            total += resp.get("Count", 0)
            if "LastEvaluatedKey" not in resp:
                return total
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def query(
        self,
        pk: str,
        sk_prefix: str | None = None,
        *,
        index: str | None = None,
        forward: bool = True,
        limit: int | None = None,
        projection: str | tuple[str, ...] | list[str] | None = None,
        start_key: dict[str, Any] | None = None,
        sk_between: tuple[str, str] | None = None,
        page_size: int | None = None,
        consistent: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Items under one partition key (sort keys starting with `sk_prefix`, or between the two
        bounds of `sk_between`, inclusive), page by page, never all in memory at once. `page_size`
        bounds a page below DynamoDB's 1 MB, so a long stream holds a fixed number of items."""
        pk_name, sk_name = schema.INDEX_KEYS.get(index, (schema.PK, schema.SK)) if index else (schema.PK, schema.SK)
        condition, values = "#pk = :pk", {":pk": {"S": pk}}
        if sk_prefix:
            condition += " AND begins_with(#sk, :sk)"
            values[":sk"] = {"S": sk_prefix}
        elif sk_between:
            condition += " AND #sk BETWEEN :lo AND :hi"
            values.update({":lo": {"S": sk_between[0]}, ":hi": {"S": sk_between[1]}})
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": pk_name, **({"#sk": sk_name} if sk_prefix or sk_between else {})},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": forward,
        }
        if index:
            kwargs["IndexName"] = index
        elif consistent:  # only the table itself can be read consistently, never an index
            kwargs["ConsistentRead"] = True
        if isinstance(projection, (tuple, list)):
            names = {f"#p{i}": a for i, a in enumerate(projection)}
            kwargs["ProjectionExpression"] = ", ".join(names)
            kwargs["ExpressionAttributeNames"].update(names)
        elif projection:
            kwargs["ProjectionExpression"] = projection
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        remaining = limit
        while True:
            if remaining is not None or page_size is not None:
                kwargs["Limit"] = min(x for x in (remaining, page_size) if x is not None)
            resp = self.retry.run(lambda: self.client.query(**kwargs))
            for raw in resp.get("Items", []):
                yield decode(raw)
            if remaining is not None:
                remaining -= len(resp.get("Items", []))
                if remaining <= 0:
                    return
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    # ---- typed writes (store/ops.py) ---------------------------------------------------------------
    def _request(self, op: ops.TransactOp) -> tuple[str, dict[str, Any]]:
        """(the TransactWriteItems action name, its request) for one typed operation."""
        expr = Expression(attribute_value)
        if isinstance(op, ops.Put):
            return "Put", expr.apply(
                {"TableName": self.name, "Item": encode(with_key(op.key, dict(op.attrs)))}, op.when
            )
        if isinstance(op, ops.Update):
            request = {"TableName": self.name, "Key": key_of(op.key), "UpdateExpression": expr.update(op)}
            return "Update", expr.apply(request, op.when)
        if isinstance(op, ops.Delete):
            return "Delete", expr.apply({"TableName": self.name, "Key": key_of(op.key)}, op.when)
        if isinstance(op, ops.Check):
            return "ConditionCheck", expr.apply({"TableName": self.name, "Key": key_of(op.key)}, op.when)
        raise TypeError(f"not an operation: {op!r}")

    def write(self, op: ops.Write) -> bool:
        """One write on its own. False when its condition did not hold (nothing was written)."""
        action, request = self._request(op)
        call = {"Put": self.client.put_item, "Update": self.client.update_item, "Delete": self.client.delete_item}[
            action
        ]
        try:
            self.retry.run(lambda: call(**request), write=True)
            return True
        except ClientError as e:
            if _code(e) == "ConditionalCheckFailedException":
                return False
            raise

    def commit(self, operations: list[ops.TransactOp], token: str | None = None) -> None:
        """All of `operations` or none, as one TransactWriteItems with one ClientRequestToken across
        every retry (so DynamoDB answers the replay of a write whose reply was lost as a success).
        Raises ops.Cancelled naming the operations whose condition failed."""
        if not operations:
            return
        if len(operations) > TRANSACT_LIMIT:
            raise ops.TooLarge(f"{len(operations)} operations; one transaction holds at most {TRANSACT_LIMIT}")
        items = [dict([self._request(op)]) for op in operations]
        token = token or uuid.uuid4().hex
        try:
            self.retry.run(
                lambda: self.client.transact_write_items(TransactItems=items, ClientRequestToken=token), write=True
            )
        except ClientError as e:
            if _code(e) != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in e.response.get("CancellationReasons", [])]
            raise ops.Cancelled(
                [i for i, r in enumerate(reasons) if r == "ConditionalCheckFailed"],
                conflict="TransactionConflict" in reasons,
                reasons=reasons,
            ) from None

    def count_where(self, pk: str, where: ops.Cond, *, index: str) -> int:
        """How many items under one index partition satisfy `where`: DynamoDB reads them all but
        sends back only the count."""
        pk_name = schema.INDEX_KEYS[index][0]
        expr = Expression(attribute_value)
        filter_expression = expr.condition(where)
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": index,
            "Select": "COUNT",
            "KeyConditionExpression": f"{expr.name(pk_name)} = {expr.value(pk)}",
            "FilterExpression": filter_expression,
            "ExpressionAttributeNames": expr.names,
            "ExpressionAttributeValues": expr.values,
        }
        total = 0
        while True:
            resp = self.retry.run(lambda: self.client.query(**kwargs))
            total += resp.get("Count", 0)
            if "LastEvaluatedKey" not in resp:
                return total
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    # ---- whole-table access (backup and restore) -------------------------------------------------
    def scan_wire(self) -> Iterator[dict[str, Any]]:
        """Every item, as the wire gives it, page by page (consistent reads)."""
        kwargs: dict[str, Any] = {"TableName": self.name, "ConsistentRead": True}
        while True:
            resp = self.retry.run(lambda: self.client.scan(**kwargs))
            yield from resp.get("Items", [])
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def put_wire(self, items: list[dict[str, Any]]) -> None:
        """Put items in wire form, 25 per BatchWriteItem, until none is left unprocessed."""
        for start in range(0, len(items), 25):
            puts = [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]
            request: dict[str, Any] | None = {self.name: puts}
            while request:
                resp = self.retry.run(partial(self.client.batch_write_item, RequestItems=request))
                request = resp.get("UnprocessedItems") or None
                if request:
                    self.retry.sleep(self.retry.delay(1))

    def is_empty(self) -> bool:
        resp = self.retry.run(lambda: self.client.scan(TableName=self.name, Limit=1))
        return not resp.get("Items")


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")
