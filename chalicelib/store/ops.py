"""Typed writes and conditions: what a repository asks the table to do, in plain values.

Repositories build these (keys included); the unit of work collects them and commits them; each
table backend carries them out its own way: `store/dynamo.py` turns them into DynamoDB expressions,
`store/memory.py` evaluates them on a dict. Because a condition is data rather than an expression
string, both backends honour exactly the same conditions, and the contract tests
(tests/contract/) hold them to it.

Attribute paths are names, optionally with list indexes and nested names (`upline[2].st`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str]

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def path_parts(path: str) -> tuple[str | int, ...]:
    """`upline[2].st` -> ("upline", 2, "st")."""
    parts: list[str | int] = []
    pos = 0
    for m in _SEGMENT.finditer(path):
        if m.start() not in (pos, pos + 1):  # only a "." may separate two segments
            raise ValueError(f"bad attribute path {path!r}")
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not parts or pos != len(path) or not isinstance(parts[0], str):
        raise ValueError(f"bad attribute path {path!r}")
    return tuple(parts)


# ---- conditions -----------------------------------------------------------------------------------


class Cond:
    """A condition on one item. Combine with `&` and `|`."""

    def __and__(self, other: Cond) -> Cond:
        return All((self, other))

    def __or__(self, other: Cond) -> Cond:
        return Any_((self, other))


@dataclass(frozen=True)
class Absent(Cond):
    """The attribute (default: the item itself) does not exist."""

    attr: str | None = None


@dataclass(frozen=True)
class Present(Cond):
    """The attribute (default: the item itself) exists."""

    attr: str | None = None


COMPARISONS = ("=", "<", "<=", ">", ">=")


@dataclass(frozen=True)
class Compare(Cond):
    """`attr op value`; false when the attribute is missing or of another type."""

    attr: str
    op: str
    value: Any

    def __post_init__(self) -> None:
        if self.op not in COMPARISONS:
            raise ValueError(f"unknown comparison {self.op!r}")


@dataclass(frozen=True)
class In(Cond):
    attr: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class SizeIs(Cond):
    """The list, map, set or string at `attr` has exactly `size` elements."""

    attr: str
    size: int


@dataclass(frozen=True)
class All(Cond):
    conds: tuple[Cond, ...]


@dataclass(frozen=True)
class Any_(Cond):
    conds: tuple[Cond, ...]


def eq(attr: str, value: Any) -> Compare:
    return Compare(attr, "=", value)


def lt(attr: str, value: Any) -> Compare:
    return Compare(attr, "<", value)


def le(attr: str, value: Any) -> Compare:
    return Compare(attr, "<=", value)


def gt(attr: str, value: Any) -> Compare:
    return Compare(attr, ">", value)


def ge(attr: str, value: Any) -> Compare:
    return Compare(attr, ">=", value)


def one_of(attr: str, *values: Any) -> In:
    return In(attr, tuple(values))


ITEM_ABSENT = Absent()
ITEM_PRESENT = Present()


# ---- writes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Put:
    """Write the whole item. `when` None: unconditionally."""

    key: Key
    attrs: Mapping[str, Any]
    when: Cond | None = None


def put_new(key: Key, attrs: Mapping[str, Any]) -> Put:
    """Write the item only if it does not exist yet: the shape of every idempotent create."""
    return Put(key, attrs, ITEM_ABSENT)


@dataclass(frozen=True)
class Update:
    """Change some attributes of an item (creating it if absent, unless `when` says otherwise).

    `set`: path -> value; `set_if_absent`: path -> value, only where the path has none yet;
    `add`: path -> number to add (a missing attribute counts as 0) or set of strings to union;
    `append`: path -> list to append (a missing attribute counts as []); `remove`: paths to delete.
    """

    key: Key
    set: Mapping[str, Any] = field(default_factory=dict)
    set_if_absent: Mapping[str, Any] = field(default_factory=dict)
    add: Mapping[str, Any] = field(default_factory=dict)
    append: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    when: Cond | None = None


@dataclass(frozen=True)
class Delete:
    key: Key
    when: Cond | None = None


@dataclass(frozen=True)
class Check:
    """A condition on an item that a transaction needs to hold, writing nothing."""

    key: Key
    when: Cond


Write = Put | Update | Delete
TransactOp = Put | Update | Delete | Check


class Cancelled(Exception):
    """A transaction was not applied. `failed` lists the positions of the operations whose
    condition did not hold; `conflict` is True when another transaction was in the way (real
    DynamoDB's TransactionConflict: nothing wrong with the request, try again)."""

    def __init__(self, failed: Sequence[int] = (), conflict: bool = False, reasons: Sequence[str] = ()):
        self.failed = tuple(failed)
        self.conflict = conflict
        self.reasons = tuple(reasons)
        super().__init__(f"transaction cancelled: failed={self.failed} conflict={conflict} {list(self.reasons)}")


class TooLarge(Exception):
    """More operations than one transaction may hold, or an item over the size limit."""
