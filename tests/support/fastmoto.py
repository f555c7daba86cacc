"""moto, made cheaper per call for the suite, with the same answers. Test-only.

moto 5.2's DynamoDB model spends most of its time on work that grows with the table, not with the
request, which the store's fan-out (a ledger over 32 partitions, a settlement reading 8 shards x 32
index partitions) multiplies:

* every Query collects and sorts the whole table (`Table.all_items`), then keeps one partition (a
  base-table query) or the items of one index key (a GSI query), and sorts what it kept again;
* every TransactWriteItems deep-copies each table it names, every item of it, so that it can roll
  back (moto/dynamodb/models/__init__.py, `transact_write_items`);
* every reply goes through a generic model serialiser (`fast_dynamodb_replies` below).

`fast_moto()` changes how, not what:

* a base-table Query reads its own partition only, and a GSI Query skips the first sort. Both sort
  what they keep as before (a partition by its sort key, an index by index key then table key, a
  total order), so the items, their order, pages and counts are those moto gives;
* a transaction keeps a copy of the items it names only (an update changes an item in place, so
  the copy is a deep one) and the length of each table's stream, and if moto cancels it, puts those
  items back and drops the stream records it added: the state moto's whole-table copy restores,
  since a transaction writes no other item and no other table state;
* replies as `fast_dynamodb_replies`.

tests/contract runs the table contract (conditions, cancelled transactions writing nothing, pages)
on moto with this on, beside the in-memory twin and DynamoDB Local, and test_fastmoto.py compares
each change with moto's own code on the same requests. On a moto this was not written for (other
internals) it changes nothing but the replies."""
from __future__ import annotations

import copy
import json
import threading
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from typing import Any, Iterator

_NO_SCOPE = None
# Per thread: the settlement runs its shards on a thread pool, so several queries (and transactions)
# can be inside moto at once, each with its own scope.
_local = threading.local()


def _default(o):
    if isinstance(o, Decimal):
        return int(o) if o == o.to_integral_value() else float(o)
    raise TypeError(type(o).__name__)


@contextmanager
def fast_dynamodb_replies() -> Iterator[None]:
    """moto 5.2 serialises every DynamoDB reply through a generic model walker that costs ~50-150 ms
    per call here. DynamoDB replies are already plain JSON (the wire format), so for successful
    replies this writes them with json.dumps, and hands anything else (errors, objects json cannot
    write) to moto's own serialiser."""
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.serialized

    def serialized(self, action_result: ActionResult):
        result = action_result.result
        if isinstance(result, dict):
            try:
                body = json.dumps(result, default=_default)
            except TypeError:
                return original(self, action_result)
            headers = {"Content-Type": "application/x-amz-json-1.0"}
            headers.update(self.response_headers)
            return 200, headers, body
        return original(self, action_result)

    DynamoHandler.serialized = serialized
    try:
        yield
    finally:
        DynamoHandler.serialized = original


def _supported() -> bool:
    """The internals the two changes below rely on, as moto 5.2 has them."""
    try:
        from moto.dynamodb import models
        from moto.dynamodb.models.table import Table
    except ImportError:  # pragma: no cover
        return False
    return (getattr(models, "copy", None) is copy and hasattr(Table, "all_items") and hasattr(Table, "query")
            and hasattr(models.DynamoDBBackend, "transact_write_items"))


@contextmanager
def fast_queries() -> Iterator[None]:
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items

    def query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
              projection_expressions, index_name=None, *args, **kwargs):
        # ("partition", key): a base-table query, which keeps the items whose hash key is `key`;
        # ("any order",): a GSI query, which sorts what it keeps by a total order of its own.
        if index_name is None:
            scope = (self, "partition", hash_key) if hash_key is not None else _NO_SCOPE
        else:
            scope = (self, "any order")
        _local.scope = scope
        try:
            return original_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                                  scan_index_forward, projection_expressions, index_name, *args, **kwargs)
        finally:
            _local.scope = _NO_SCOPE

    def all_items(self):
        scope = getattr(_local, "scope", _NO_SCOPE)
        if scope is _NO_SCOPE or scope[0] is not self:  # a scan, or anything else: moto's own, sorted
            return original_all_items(self)
        _local.scope = _NO_SCOPE  # once per query
        if scope[1] == "partition":
            if not self.range_key_attr:
                item = self.items.get(scope[2])  # .get: `items` is a defaultdict
                return [item] if isinstance(item, Item) else []
            return list(self.items.get(scope[2], {}).values())
        items: list = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)
        return items

    Table.query, Table.all_items = query, all_items
    try:
        yield
    finally:
        Table.query, Table.all_items = original_query, original_all_items


class _CopyButNotTables:
    """Stands in for the `copy` module inside moto.dynamodb.models (whose only deep copy of a table
    is a transaction's): the whole-table copy becomes the table itself (its "rollback" then puts back
    the same object), and every other copy (an update's old image, for the stream) is made as before."""

    def __init__(self, table_type: type):
        self.table_type = table_type

    def deepcopy(self, x: Any, memo: Any = None) -> Any:
        if isinstance(x, self.table_type) and not getattr(_local, "real_table_copies", False):
            return x
        return copy.deepcopy(x, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _tables_named(backend, transact_items) -> list[Any]:
    tables: dict[int, Any] = {}
    for entry in transact_items:
        try:
            _, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
        except (TypeError, AttributeError, StopIteration):
            continue
        if table is not None:
            tables[id(table)] = table
    return list(tables.values())


def _touched(backend, transact_items) -> list[tuple[Any, Any, Any, Any, bool]]:
    """(table, hash key, range key, a copy of the item or None, whether its partition existed) for
    every item the transaction names, before it runs."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved = []
    for entry in transact_items:
        try:
            _, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op["Item"] if "Item" in op else op["Key"]
            h = DynamoType(key[table.hash_key_attr])
            r = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        except (KeyError, TypeError, AttributeError, StopIteration):
            continue  # moto refuses it; before any write, or with the rest cancelled
        part = table.items.get(h)
        if table.range_key_attr:
            current = part.get(r) if part is not None else None
        else:
            current = part
        saved.append((table, h, r, copy.deepcopy(current) if current is not None else None, part is not None))
    return saved


def _put_back(saved, streams) -> None:
    for table, h, r, item, had_partition in reversed(saved):
        if table.range_key_attr:
            part = table.items[h]
            if item is None:
                part.pop(r, None)
            else:
                part[r] = item
            if not part and not had_partition:
                del table.items[h]
        elif item is None:
            table.items.pop(h, None)
        else:
            table.items[h] = item
    for table, length in streams:
        del table.stream_shard.items[length:]


@contextmanager
def cheap_transaction_rollback() -> Iterator[None]:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    stand_in = _CopyButNotTables(Table)

    def transact_write_items(self, transact_items):
        named = _tables_named(self, transact_items)
        if any(t.lambda_event_source_mappings for t in named):  # a stream that can empty itself: moto's own
            _local.real_table_copies = True
            try:
                return original(self, transact_items)
            finally:
                _local.real_table_copies = False
        saved = _touched(self, transact_items)
        streams = [(t, len(t.stream_shard.items)) for t in named if t.stream_shard is not None]
        try:
            return original(self, transact_items)
        except BaseException:
            _put_back(saved, streams)
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items
    models.copy = stand_in
    try:
        yield
    finally:
        models.DynamoDBBackend.transact_write_items = original
        models.copy = copy


@contextmanager
def fast_moto() -> Iterator[None]:
    """All three changes, for as long as the block runs (inside or around mock_aws())."""
    with ExitStack() as stack:
        stack.enter_context(fast_dynamodb_replies())
        if _supported():
            stack.enter_context(fast_queries())
            stack.enter_context(cheap_transaction_rollback())
        yield
