"""Stored records that cannot be read are isolated, never a 500 for every path that touches them.

Plan and reward program versions are read on every order; one version written with a time nothing
could read back (year 0001, before times were validated) made every order, member sign-up and
reward read fail, and publishing a corrected version too. A record that does not parse is now
skipped, logged as an error with its key, counted (metric `StoredRecordUnreadable`) and listed for
admins beside the records that could be read. Versions keep their stored count, so the next
version still gets the next number and a corrected program can be published over a broken one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ..observability import logger, metrics

T = TypeVar("T")

# What converting a stored item into a domain object raises when the item is not what the code
# expects (a missing field, a time in an unreadable form, bad JSON, a wrong type).
PARSE_ERRORS = (KeyError, ValueError, TypeError, AttributeError, IndexError, OverflowError)
METRIC = "StoredRecordUnreadable"


@dataclass(frozen=True)
class Unreadable:
    key: str
    error: str

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "error": self.error}


class UnreadableRecord(Exception):
    """A stored item that could not be turned into what it stands for (already reported)."""

    def __init__(self, problem: Unreadable):
        super().__init__(f"{problem.key}: {problem.error}")
        self.problem = problem


def report(key: str, error: BaseException) -> Unreadable:
    problem = Unreadable(key, f"{type(error).__name__}: {error}"[:300])
    logger.error("stored record unreadable; skipped", extra={"record_key": key, "error": problem.error})
    metrics.add_metric(name=METRIC, unit="Count", value=1)
    return problem


def read_one(key: str, parse: Callable[[Any], T], raw: Any) -> T:
    """`parse(raw)`, or UnreadableRecord (reported) if the stored item does not parse."""
    try:
        return parse(raw)
    except PARSE_ERRORS as e:
        raise UnreadableRecord(report(key, e)) from e


@dataclass(frozen=True)
class Versions(Generic[T]):
    """The versions of one versioned record that could be read, in stored order."""

    items: list[T]
    stored: int  # every stored version, readable or not: the next version is number stored + 1
    unreadable: list[Unreadable] = field(default_factory=list)


def read_versions(key: str, raw: Iterable[Any], parse: Callable[[Any], T]) -> Versions[T]:
    items: list[T] = []
    problems: list[Unreadable] = []
    stored = 0
    for i, one in enumerate(raw):
        stored += 1
        try:
            items.append(parse(one))
        except PARSE_ERRORS as e:
            problems.append(report(f"{key}[{i}]", e))
    return Versions(items, stored, problems)
