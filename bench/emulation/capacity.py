"""What a write costs in DynamoDB capacity units, and where: the table's partition key and the
partition key of every global secondary index the write touches.

Sources (checked 2026-12): the developer guide's "Read/write capacity mode" (one write unit per 1 KB
of the item, rounded up per item; the larger of the item before and after; 2 units per KB inside a
transaction, "one to prepare and one to commit"), "Global secondary indexes - write capacity" (an
index write costs the index's capacity: one write when the item enters, leaves or changes in the
index, two when its index key moves, none when the index's copy does not change), and conformance
captures against real DynamoDB (paritysuite/dynamodb-conformance PR 67, nubo-db/dynoxide PR 188): a
ConditionCheck costs 2 units per KB of the item it reads, and the transactional doubling applies to
the table arm only - an index write inside a transaction costs what it costs outside one. DynamoDB
Local reports index writes of a transaction doubled (bench_cost.py's 114 units per depth-10 order
counts them so); this model follows the captures from real DynamoDB instead."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chalicelib.store import schema

KB = 1024

Item = dict[str, Any]


_sized: dict[int, tuple[Any, int]] = {}  # id -> (the list or map value, its size)


def value_size(v: dict[str, Any]) -> int:
    """Bytes of one attribute value, as DynamoDB sizes it (developer guide, "Item sizes and formats").
    Lists and maps are remembered by identity: the in-memory table never changes a stored value,
    and an update shares every value it does not touch (an upline list, a map of counters)."""
    (tag, raw), = v.items()
    if tag == "L" or tag == "M":
        hit = _sized.get(id(v))
        if hit is not None and hit[0] is v:
            return hit[1]
        size = _container_size(tag, raw)
        if len(_sized) > 500_000:
            _sized.clear()
        _sized[id(v)] = (v, size)
        return size
    if tag == "S":
        return len(raw) if raw.isascii() else len(raw.encode())
    if tag == "N":
        digits = raw.lstrip("+-").replace(".", "", 1).strip("0") if "e" not in raw.lower() else \
            "".join(map(str, Decimal(raw).normalize().as_tuple().digits))
        return (len(digits) + 1) // 2 + 1
    if tag == "B":
        return len(raw)
    if tag in ("BOOL", "NULL"):
        return 1
    if tag == "SS":
        return sum(len(x.encode()) for x in raw)
    if tag == "NS":
        return sum(value_size({"N": x}) for x in raw)
    if tag == "BS":
        return sum(len(x) for x in raw)
    raise ValueError(f"unknown attribute type {tag}")


def _container_size(tag: str, raw: Any) -> int:
    if tag == "L":
        return 3 + sum(value_size(x) + 1 for x in raw)
    return 3 + sum(len(k.encode()) + value_size(x) + 1 for k, x in raw.items())


def item_size(item: Item | None) -> int:
    """Bytes of an item: its attribute names and values. Remembered by identity like lists and maps
    (the emulation sizes a written item, then the table sizes the same object again)."""
    if not item:
        return 0
    hit = _sized.get(id(item))
    if hit is not None and hit[0] is item:
        return hit[1]
    size = sum((len(k) if k.isascii() else len(k.encode())) + value_size(v) for k, v in item.items())
    if len(_sized) > 500_000:
        _sized.clear()
    _sized[id(item)] = (item, size)
    return size


def units(size: int) -> int:
    """Write units for one write of an item of `size` bytes: 1 KB each, rounded up, at least 1."""
    return max(1, -(-size // KB))


TABLE = "table"


@dataclass(frozen=True)
class Charge:
    """Units charged to one partition key of the table (`index` = "table") or of one index."""
    index: str
    key: str
    units: int


def write_charges(before: Item | None, after: Item | None, *, transactional: bool,
                  check_only: bool = False, before_size: int | None = None,
                  after_size: int | None = None) -> list[Charge]:
    """The charges of one item write (Put, Update, Delete) or, with `check_only`, one
    ConditionCheck. `before`/`after` are the item's images (None when absent); their sizes may be
    given when already known."""
    pk = (after or before or {}).get(schema.PK, {}).get("S", "")
    factor = 2 if transactional else 1
    b = item_size(before) if before_size is None else before_size
    if check_only:
        return [Charge(TABLE, pk, units(b) * factor)]
    a = item_size(after) if after_size is None else after_size
    out = [Charge(TABLE, pk, units(max(a, b)) * factor)]
    if check_only:
        return out
    for index, (ipk, _isk) in schema.INDEX_KEYS.items():
        old_key = _index_key(before, ipk)
        new_key = _index_key(after, ipk)
        if old_key is None and new_key is None:
            continue
        if old_key is not None and new_key is not None and old_key == new_key:
            if before is not after and before != after:  # projection ALL: any change rewrites the copy
                out.append(Charge(index, new_key, units(a)))
            continue
        if old_key is not None:
            out.append(Charge(index, old_key, units(b)))
        if new_key is not None:
            out.append(Charge(index, new_key, units(a)))
    return out


def _index_key(item: Item | None, attr: str) -> str | None:
    if not item:
        return None
    v = item.get(attr)
    if v is None:
        return None
    isk_attr = next(sk for pk_, sk in schema.INDEX_KEYS.values() if pk_ == attr)
    if isk_attr not in item:  # an item is in an index only when it has both of the index's keys
        return None
    return v.get("S")


def read_units(size: int, consistent: bool) -> float:
    """Read units for one item: 4 KB each, rounded up; half for an eventually consistent read."""
    n = max(1, -(-size // (4 * KB)))
    return n if consistent else n / 2
