"""Who acted. Every action is taken by a named person or a named system actor (the schedule, the
demo loader), never by an anonymous default, and whether two names are the same person is decided
here and nowhere else: maker-checker rules compare identities only through `same_person`."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from .errors import InvalidInput

SYSTEM_PREFIX = "system:"


def normalized(identity: str) -> str:
    """The form two identities are compared in: Unicode-compatible (NFKC), case-folded, with
    surrounding and repeated spaces dropped, so "Alice", " alice " and "ＡＬＩＣＥ" are one person."""
    return " ".join(unicodedata.normalize("NFKC", identity).casefold().split())


def same_person(a: str | None, b: str | None) -> bool:
    """True when both name someone and it is the same someone."""
    return a is not None and b is not None and normalized(a) != "" and normalized(a) == normalized(b)


def among(identity: str, people: Iterable[str | None]) -> bool:
    """True when `identity` is one of `people` (maker-checker: did this person already act on it?)."""
    return any(same_person(identity, p) for p in people)


def person(name: str | None) -> str:
    """A person's name as given on a command line or in a token, checked: not empty, and not a name
    reserved for the system's own actors."""
    name = (name or "").strip()
    if not normalized(name):
        raise InvalidInput("say who you are: a person's name is required (--as NAME)", code="identity_required")
    if normalized(name).startswith(SYSTEM_PREFIX):
        raise InvalidInput(
            f"names starting with {SYSTEM_PREFIX!r} are reserved for the system's own jobs", code="identity_reserved"
        )
    return name


def system(name: str) -> str:
    """The name of one of the system's own actors (a job, the demo loader)."""
    return f"{SYSTEM_PREFIX}{name}"
