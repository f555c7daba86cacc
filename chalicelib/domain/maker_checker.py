"""Maker-checker: a change that moves money is made by one person and checked by another.

One rule for every check (approving a batch, confirming a bounced payout) and every entry point
(API, CLI, schedule): the checker is none of the makers, with identities compared the one way
`domain/actors` compares them, so "Bob", " bob" and "BOB" are one person.
"""

from __future__ import annotations

from collections.abc import Iterable

from .actors import among
from .errors import Forbidden


def require_checker(checker: str, makers: Iterable[str | None], refusal: str) -> None:
    """Refuse (403, code `maker_checker`) a check by anyone among `makers`; `refusal` is the plain
    sentence the person refused reads (the code already names the rule, so the sentence does not)."""
    if among(checker, makers):
        raise Forbidden(refusal, code="maker_checker")
