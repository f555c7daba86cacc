"""Finance's review of a settlement, as pure rules: why a period cannot be settled yet, a batch's
totals per currency, a line's status, the comparison with the previous period (and which lines
deserve a second look), and the payout list's filter, sort and paging. No I/O, no clock."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import InvalidInput
from .periods import next_period, previous_period
from .settlement import Line

TOTAL_FIELDS = (
    "commissions_minor",
    "bonuses_minor",
    "clawbacks_minor",
    "adjustments_minor",
    "carried_in_minor",
    "carried_out_minor",
    "payout_minor",
)


# ---- why a period cannot be settled yet -------------------------------------------------------
@dataclass(frozen=True)
class Blocked:
    code: str
    message: str
    until: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.until is not None:
            out["until"] = self.until.isoformat()
        return out


def blocked_reason(
    period: str,
    now: datetime,
    *,
    settles_from: datetime,
    first_period: str | None,
    settled_through: str | None,
) -> Blocked | None:
    """Why settling `period` at `now` is refused, or None when it may run. The same rule as
    settlement itself applies (services/settlement/close.py asks this function)."""
    if first_period is None:
        return Blocked("no_plan", "No plan is in force yet, so there is nothing to settle.")
    if period < first_period:
        return Blocked("before_program", f"The program starts in {first_period}; {period} has nothing to settle.")
    if now < settles_from:
        return Blocked("period_not_locked", f"{period} is open until {settles_from.isoformat()}.", settles_from)
    todo = next_period(settled_through) if settled_through is not None else first_period
    if todo < period:
        return Blocked(
            "earlier_period_open",
            f"An earlier period, {todo}, is not settled yet; periods are settled in order, so settle {todo} first.",
        )
    return None


def periods_between(first: str, last: str) -> list[str]:
    """Every period from `first` to `last`, newest first (empty when last < first)."""
    out, p = [], last
    while p >= first:
        out.append(p)
        p = previous_period(p)
    return out


# ---- totals and status ---------------------------------------------------------------------
def totals_by_currency(lines: Iterable[Line]) -> dict[str, dict[str, int]]:
    """Per currency: each money column summed, the line count and the count of lines paying out."""
    out: dict[str, dict[str, int]] = {}
    for ln in lines:
        t = out.setdefault(ln.currency, {**dict.fromkeys(TOTAL_FIELDS, 0), "lines": 0, "payouts": 0})
        for f in TOTAL_FIELDS:
            t[f] += getattr(ln, f)
        t["lines"] += 1
        t["payouts"] += ln.payout_minor > 0
    return dict(sorted(out.items()))


def line_status(payout_minor: int, batch_status: str, payout_status: str | None, bounce_status: str | None) -> str:
    """What one payout line stands at: failed, bounce reported, carried (nothing paid), else the batch's state."""
    if payout_status == "failed":
        return "failed"
    if bounce_status == "reported":
        return "bounce_reported"
    if payout_minor == 0:
        return "carried"
    return batch_status


# ---- comparison with the previous period ------------------------------------------------------
@dataclass(frozen=True)
class Change:
    partner_id: str
    currency: str
    previous_minor: int | None  # None: no line in the previous period
    current_minor: int | None  # None: no line in this period

    @property
    def change_minor(self) -> int:
        return (self.current_minor or 0) - (self.previous_minor or 0)

    @property
    def change_bps(self) -> int | None:
        """The change as basis points of the previous payout (None when there was none), rounded towards zero."""
        if not self.previous_minor:
            return None
        return int(self.change_minor * 10_000 / self.previous_minor)

    def as_dict(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "currency": self.currency,
            "previous_minor": self.previous_minor,
            "current_minor": self.current_minor,
            "change_minor": self.change_minor,
            "change_bps": self.change_bps,
        }


def over_threshold(c: Change, threshold_bps: int, threshold_minor: int) -> bool:
    """A line deserves a second look when its payout moved by at least `threshold_minor`, or by at
    least `threshold_bps` of the previous payout; a new partner's first payout counts as moved in full."""
    moved = abs(c.change_minor)
    if moved == 0:
        return False
    if moved >= threshold_minor:
        return True
    # integers only: moved / previous >= bps / 10,000
    return bool(c.previous_minor) and moved * 10_000 >= threshold_bps * abs(c.previous_minor or 0)


@dataclass
class Comparison:
    changes: list[Change] = field(default_factory=list)
    new: list[Change] = field(default_factory=list)
    missing: list[Change] = field(default_factory=list)
    flagged: list[Change] = field(default_factory=list)
    largest: list[Change] = field(default_factory=list)

    def flagged_keys(self) -> set[tuple[str, str]]:
        return {(c.partner_id, c.currency) for c in self.flagged}


def compare(
    current: Iterable[Line], previous: Iterable[Line], threshold_bps: int, threshold_minor: int, top: int = 10
) -> Comparison:
    """Each (partner, currency)'s payout now against the previous period's: the changes, partners
    new to this batch or missing from it, the `top` largest movements and the lines over a threshold."""
    now = {(ln.partner_id, ln.currency): ln.payout_minor for ln in current}
    before = {(ln.partner_id, ln.currency): ln.payout_minor for ln in previous}
    out = Comparison()
    for key in sorted(now.keys() | before.keys()):
        c = Change(key[0], key[1], before.get(key), now.get(key))
        out.changes.append(c)
        if key not in before:
            out.new.append(c)
        elif key not in now:
            out.missing.append(c)
        if over_threshold(c, threshold_bps, threshold_minor):
            out.flagged.append(c)
    moved = [c for c in out.changes if c.change_minor]
    out.largest = sorted(moved, key=lambda c: (-abs(c.change_minor), c.partner_id, c.currency))[:top]
    return out


# ---- the payout list: filter, sort, page -------------------------------------------------------
SORTS = ("partner_id", "partner_name", "currency", "payout_minor", "carried_out_minor", "entries", "status")


@dataclass(frozen=True)
class PayoutQuery:
    sort: str = "partner_id"
    descending: bool = False
    status: frozenset[str] = frozenset()
    currency: str | None = None
    min_minor: int | None = None
    max_minor: int | None = None
    flagged: bool | None = None
    search: str | None = None

    def fingerprint(self) -> str:
        """What a cursor is bound to: a cursor from one query is refused by another."""
        return json.dumps(
            [
                self.sort,
                self.descending,
                sorted(self.status),
                self.currency,
                self.min_minor,
                self.max_minor,
                self.flagged,
                self.search,
            ]
        )


def matches(row: dict[str, Any], q: PayoutQuery) -> bool:
    if q.status and row["status"] not in q.status:
        return False
    if q.currency and row["currency"] != q.currency:
        return False
    if q.min_minor is not None and row["payout_minor"] < q.min_minor:
        return False
    if q.max_minor is not None and row["payout_minor"] > q.max_minor:
        return False
    if q.flagged is not None and bool(row.get("flagged")) != q.flagged:
        return False
    if q.search:
        needle = q.search.casefold()
        if needle not in row["partner_id"].casefold() and needle not in (row.get("partner_name") or "").casefold():
            return False
    return True


def select(rows: Iterable[dict[str, Any]], q: PayoutQuery) -> list[dict[str, Any]]:
    """The rows `q` keeps, in its order (ties by partner then currency, so paging is stable)."""
    kept = [r for r in rows if matches(r, q)]
    kept.sort(key=lambda r: (r["partner_id"], r["currency"]))
    kept.sort(key=lambda r: _sort_key(r.get(q.sort)), reverse=q.descending)
    return kept


def _sort_key(value: Any) -> tuple[bool, Any]:
    """Missing values last (first when descending); values of one column share a type."""
    return (value is None, value if value is not None else "")


def page(rows: Sequence[dict[str, Any]], offset: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """One page and the offset of the next (None at the end)."""
    chunk = list(rows[offset : offset + limit])
    nxt = offset + limit
    return chunk, (nxt if nxt < len(rows) else None)


# ---- opaque cursors ---------------------------------------------------------------------------
def encode_cursor(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """A cursor handed out by `encode_cursor`; anything else is a 400 invalid_cursor."""
    if not cursor:
        return None
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput("the cursor is not one this API handed out", code="invalid_cursor") from None
    if not isinstance(state, dict):
        raise InvalidInput("the cursor is not one this API handed out", code="invalid_cursor")
    return state
