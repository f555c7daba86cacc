"""The in-memory twin of the table: the same reads and typed writes as store/dynamo.Table, on dicts.

It honours the same conditions (evaluated from the same store/ops.py values), the same transaction
rules (all or nothing, at most 100 operations, one operation per item), the same index semantics (an
item is in a GSI only when it has both of that index's key attributes) and DynamoDB's ordering of
string keys. The contract tests (tests/contract/) run one suite against this, moto and DynamoDB
Local, so a service test on the twin means what it would mean on DynamoDB. Not modelled: eventual
consistency (everything reads its own writes), capacity, and conflicts between concurrent
transactions (bench/ has an emulation of those).
"""

from __future__ import annotations

import copy
import json
import threading
from bisect import insort
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from . import ops, schema
from .dynamo import TRANSACT_LIMIT, attribute_value, check_deadline, decode, encode, with_key
from .ops import Key

MAX_ITEM_BYTES = 400 * 1024
_MISSING: Any = object()  # a sentinel that stands in for any value


def _check_value(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    if isinstance(value, dict):
        for v in value.values():
            _check_value(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _check_value(v)


def _kind(value: Any) -> str:
    """DynamoDB's type of a value: comparisons across types are false."""
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, (int, Decimal)):
        return "N"
    if isinstance(value, str):
        return "S"
    if isinstance(value, (bytes, bytearray)):
        return "B"
    if isinstance(value, (set, frozenset)):
        return "SET"
    if isinstance(value, (list, tuple)):
        return "L"
    if isinstance(value, dict):
        return "M"
    return "NULL" if value is None else type(value).__name__


def _get(item: dict[str, Any] | None, path: str) -> Any:
    node: Any = item
    for part in ops.path_parts(path):
        if node is None:
            return _MISSING
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return _MISSING
            node = node[part]
        else:
            if not isinstance(node, dict) or part not in node:
                return _MISSING
            node = node[part]
    return node


def _parent(item: dict[str, Any], path: str) -> tuple[Any, str | int]:
    parts = ops.path_parts(path)
    node: Any = item
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            raise ValueError(f"the document path {path!r} is invalid for update") from None
    last = parts[-1]
    if isinstance(last, int) and not (isinstance(node, list) and last < len(node)):
        raise ValueError(f"the document path {path!r} is invalid for update")
    if isinstance(last, str) and not isinstance(node, dict):
        raise ValueError(f"the document path {path!r} is invalid for update")
    return node, last


def holds(cond: ops.Cond | None, item: dict[str, Any] | None) -> bool:
    """Whether `cond` holds for `item` (None: the item does not exist)."""
    if cond is None:
        return True
    if isinstance(cond, ops.Absent):
        return item is None if cond.attr is None else _get(item, cond.attr) is _MISSING
    if isinstance(cond, ops.Present):
        return item is not None if cond.attr is None else _get(item, cond.attr) is not _MISSING
    if isinstance(cond, ops.Compare):
        have = _get(item, cond.attr)
        if have is _MISSING or _kind(have) != _kind(cond.value):
            return False
        if _kind(have) not in ("N", "S", "B"):
            return cond.op == "=" and have == cond.value
        return {
            "=": have == cond.value,
            "<": have < cond.value,
            "<=": have <= cond.value,
            ">": have > cond.value,
            ">=": have >= cond.value,
        }[cond.op]
    if isinstance(cond, ops.In):
        have = _get(item, cond.attr)
        return have is not _MISSING and any(_kind(have) == _kind(v) and have == v for v in cond.values)
    if isinstance(cond, ops.SizeIs):
        have = _get(item, cond.attr)
        return have is not _MISSING and hasattr(have, "__len__") and len(have) == cond.size
    if isinstance(cond, ops.All):
        return all(holds(c, item) for c in cond.conds)
    if isinstance(cond, ops.Any_):
        return any(holds(c, item) for c in cond.conds)
    raise TypeError(f"not a condition: {cond!r}")


def _plain(value: Any) -> Any:
    """What DynamoDB would hand back for `value`: a round trip through the wire format."""
    from .dynamo import plain_value

    return plain_value(attribute_value(value))


def apply_update(item: dict[str, Any] | None, u: ops.Update) -> dict[str, Any]:
    out = copy.deepcopy(item) if item is not None else {schema.PK: u.key[0], schema.SK: u.key[1]}
    for path, value in u.set.items():
        node, last = _parent(out, path)
        node[last] = _plain(value)
    for path, value in u.set_if_absent.items():
        if _get(out, path) is _MISSING:
            node, last = _parent(out, path)
            node[last] = _plain(value)
    for path, value in u.append.items():
        node, last = _parent(out, path)
        have = node[last] if (isinstance(node, dict) and last in node) else []
        if not isinstance(have, list):
            raise ValueError(f"list_append on {path!r}, which is not a list")
        node[last] = have + [_plain(v) for v in value]
    for path, value in u.add.items():
        node, last = _parent(out, path)
        have = node.get(last, _MISSING) if isinstance(node, dict) else node[last]
        if isinstance(value, (set, frozenset)):
            if have is not _MISSING and not isinstance(have, set):
                raise ValueError(f"ADD a set to {path!r}, which is not a set")
            node[last] = (set() if have is _MISSING else set(have)) | set(value)
        else:
            if have is not _MISSING and _kind(have) != "N":
                raise ValueError(f"ADD a number to {path!r}, which is not a number")
            node[last] = (0 if have is _MISSING else have) + value
    for path in u.remove:
        if _get(out, path) is not _MISSING:
            node, last = _parent(out, path)
            del node[last]
    return out


class MemoryTable:
    """A table held in this process. Thread-safe: every call holds one lock."""

    def __init__(self, name: str = "memory"):
        self.name = name
        self._items: dict[Key, dict[str, Any]] = {}
        # partition key -> sorted sort keys, for the table and each index
        self._parts: dict[str | None, dict[str, list[tuple[str, Key]]]] = {None: {}}
        for index in schema.INDEX_KEYS:
            self._parts[index] = {}
        self._lock = threading.RLock()
        self.writes = 0  # transactions and single writes applied (for tests that count)

    # ---- indexes ---------------------------------------------------------------------------
    @staticmethod
    def _index_keys(item: dict[str, Any]) -> dict[str | None, tuple[str, str]]:
        out: dict[str | None, tuple[str, str]] = {None: (item[schema.PK], item[schema.SK])}
        for index, (pk_name, sk_name) in schema.INDEX_KEYS.items():
            pk, sk = item.get(pk_name), item.get(sk_name)
            if isinstance(pk, str) and isinstance(sk, str):
                out[index] = (pk, sk)
        return out

    def _unindex(self, key: Key) -> None:
        item = self._items.get(key)
        if item is None:
            return
        for index, (pk, sk) in self._index_keys(item).items():
            part = self._parts[index].get(pk, [])
            part.remove((sk, key))
            if not part:
                del self._parts[index][pk]

    def _store(self, key: Key, item: dict[str, Any] | None) -> None:
        self._unindex(key)
        if item is None:
            self._items.pop(key, None)
            return
        size = len(json.dumps(encode(item), default=str))
        if size > MAX_ITEM_BYTES:
            raise ops.TooLarge(f"item {key} is {size} bytes; the limit is {MAX_ITEM_BYTES}")
        self._items[key] = item
        for index, (pk, sk) in self._index_keys(item).items():
            insort(self._parts[index].setdefault(pk, []), (sk, key))

    def _new_state(self, op: ops.Write) -> dict[str, Any] | None:
        current = self._items.get(op.key)
        if isinstance(op, ops.Put):
            _check_value(dict(op.attrs))
            return decode(encode(with_key(op.key, dict(op.attrs))))
        if isinstance(op, ops.Update):
            _check_value(dict(op.set))
            return apply_update(current, op)
        if isinstance(op, ops.Delete):
            return None
        raise TypeError(f"not a write: {op!r}")

    # ---- reads -----------------------------------------------------------------------------
    def get(self, key: Key, consistent: bool = True, attrs: tuple[str, ...] = ()) -> dict[str, Any] | None:
        with self._lock:
            pk, sk = key
            item = self._items.get((pk, sk))
            if item is None:
                return None
            return {k: copy.deepcopy(v) for k, v in item.items() if not attrs or k in attrs}

    def batch_get(self, keys: Iterable[Key], consistent: bool = True) -> dict[Key, dict[str, Any]]:
        with self._lock:
            return {k: copy.deepcopy(self._items[k]) for k in dict.fromkeys(tuple(k) for k in keys) if k in self._items}

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
        with self._lock:
            part = list(self._parts[index].get(pk, []))
            found = []
            for sk, key in part if forward else reversed(part):
                if sk_prefix and not sk.startswith(sk_prefix):
                    continue
                if sk_between and not sk_between[0] <= sk <= sk_between[1]:
                    continue
                found.append(copy.deepcopy(self._items[key]))
                if limit is not None and len(found) >= limit:
                    break
        names = None
        if isinstance(projection, str):
            names = [p.strip() for p in projection.split(",")]
        elif projection:
            names = list(projection)
        for item in found:
            yield {k: v for k, v in item.items() if k in names} if names else item

    def count_where(self, pk: str, where: ops.Cond, *, index: str) -> int:
        return sum(1 for item in self.query(pk, index=index) if holds(where, item))

    def scan(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            items = [copy.deepcopy(i) for _, i in sorted(self._items.items())]
        yield from items

    # ---- writes ----------------------------------------------------------------------------
    def write(self, op: ops.Write) -> bool:
        check_deadline()  # as the DynamoDB table does: nothing is sent past the request's deadline
        with self._lock:
            if not holds(op.when, self._items.get(op.key)):
                return False
            self._store(op.key, self._new_state(op))
            self.writes += 1
            return True

    def commit(self, operations: list[ops.TransactOp], token: str | None = None) -> None:
        if not operations:
            return
        check_deadline()
        if len(operations) > TRANSACT_LIMIT:
            raise ops.TooLarge(f"{len(operations)} operations; one transaction holds at most {TRANSACT_LIMIT}")
        seen = [tuple(op.key) for op in operations]
        if len(set(seen)) != len(seen):
            raise ValueError("Transaction request cannot include multiple operations on one item")
        with self._lock:
            failed = [i for i, op in enumerate(operations) if not holds(op.when, self._items.get(op.key))]
            if failed:
                raise ops.Cancelled(
                    failed,
                    reasons=["ConditionalCheckFailed" if i in failed else "None" for i in range(len(operations))],
                )
            states = [(op.key, self._new_state(op)) for op in operations if not isinstance(op, ops.Check)]
            for key, state in states:
                self._store(key, state)
            self.writes += 1

    # ---- whole-table access (backup and restore) -------------------------------------------------
    def scan_wire(self) -> Iterator[dict[str, Any]]:
        for item in self.scan():
            yield encode(item)

    def put_wire(self, items: list[dict[str, Any]]) -> None:
        with self._lock:
            for raw in items:
                item = decode(raw)
                self._store((item[schema.PK], item[schema.SK]), item)

    def is_empty(self) -> bool:
        return not self._items
