"""Leaderboards: partners by personal sales, team sales and recruits; members by successful invites;
per period. Pure: the figures in, ranked rows out, and the mask that hides a name.

Ties are ordered deterministically: amount (descending), then who reached it first (when the board
knows: a recruit's or an invite's time), then the subject's id. A rank is the row's position, so no
two rows share one. Whoever opted out is left out of the board (others rank as if it were not there).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import InvalidInput

PARTNER_SALES, PARTNER_TEAM_SALES, PARTNER_RECRUITS = "partner_sales", "partner_team_sales", "partner_recruits"
MEMBER_INVITES = "member_invites"
PARTNER_BOARDS = (PARTNER_SALES, PARTNER_TEAM_SALES, PARTNER_RECRUITS)
BOARDS = (*PARTNER_BOARDS, MEMBER_INVITES)
COUNTED = (PARTNER_RECRUITS, MEMBER_INVITES)  # boards that count people, not money
NO_CURRENCY = "XXX"  # ISO 4217's code for "no currency": the one "currency" of a counting board
TOP_N, MAX_TOP = 10, 100
MASK = "*"


def check_board(board: str, allowed: Iterable[str] = BOARDS) -> str:
    allowed = tuple(allowed)
    if board not in allowed:
        raise InvalidInput(f"board is one of {', '.join(allowed)}", code="invalid_board")
    return board


def mask(name: str) -> str:
    """The first character a reader sees and a mask: "王小明" -> "王*", "Émile" -> "É*". Unicode-aware:
    a character is a code point with the marks that follow it ("e" + U+0301 stays whole)."""
    text = unicodedata.normalize("NFC", name).strip()
    if not text:
        return MASK
    end = 1
    # Marks (Mn, Mc, Me: accents, vowel signs) and variation selectors belong to the character before.
    while end < len(text) and (unicodedata.category(text[end]).startswith("M") or text[end] in "\ufe0e\ufe0f"):
        end += 1
    return text[:end] + MASK


@dataclass(frozen=True)
class Candidate:
    subject_id: str
    label: str  # the name as stored; masked where it is shown
    amount: int  # minor units, or a count
    reached: str = ""  # ISO time the amount was reached, when the board knows it ("" sorts after any)
    opted_out: bool = False


@dataclass(frozen=True)
class Row:
    rank: int
    subject_id: str
    label: str
    amount: int


def ranked(candidates: Iterable[Candidate]) -> list[Row]:
    """Rows with a positive amount from those who did not opt out, best first, ranks 1..n."""
    kept = [c for c in candidates if c.amount > 0 and not c.opted_out]
    kept.sort(key=lambda c: (-c.amount, c.reached or "\uffff", c.subject_id))
    return [Row(i, c.subject_id, c.label, c.amount) for i, c in enumerate(kept, start=1)]


def team_totals(
    personal: Mapping[str, Mapping[str, int]], uplines: Mapping[str, tuple[str, ...]]
) -> dict[str, dict[str, int]]:
    """Each partner's own sales plus those of everyone below it (as far as the stored uplines
    reach), per currency."""
    out: dict[str, dict[str, int]] = {}
    for pid, by_currency in personal.items():
        for who in (pid, *uplines.get(pid, ())):
            into = out.setdefault(who, {})
            for cur, amount in by_currency.items():
                into[cur] = into.get(cur, 0) + amount
    return out


def recruits(enrolments: Iterable[tuple[str, str | None, str]], start: str, end: str) -> dict[str, tuple[int, str]]:
    """(partner, sponsor at enrolment, enrolled at ISO) -> sponsor: (recruits in [start, end), when
    its last one came). Ties then go to whoever got there first."""
    out: dict[str, tuple[int, str]] = {}
    for _, sponsor, at in sorted(enrolments, key=lambda e: e[2]):
        if sponsor and start <= at < end:
            n, _ = out.get(sponsor, (0, ""))
            out[sponsor] = (n + 1, at)
    return out
