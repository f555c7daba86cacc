"""Maker-checker: a change that moves money is made by one person and checked by another.

One rule for every check (approving a batch, confirming a bounced payout) and every entry point
(API, CLI, schedule): the checker is none of the makers, and identities are compared normalized,
so "Bob", " bob" and "BOB" are one person.
"""
from __future__ import annotations

from typing import Iterable

from .errors import Forbidden


def same_person(a: str | None, b: str | None) -> bool:
    """Whether two identities name one person: compared case-insensitively after trimming."""
    if not a or not b:
        return False
    return a.strip().casefold() == b.strip().casefold()


def require_checker(checker: str, makers: Iterable[str | None], what: str) -> None:
    """Refuse (403 maker_checker) a check by anyone among `makers`; `what` says what needs a second
    person, for the message."""
    if any(same_person(checker, maker) for maker in makers):
        raise Forbidden(f"maker-checker: {what}", code="maker_checker")
