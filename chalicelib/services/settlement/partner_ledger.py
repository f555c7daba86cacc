"""A partner's entries with the state settlement left each in (the rule: domain/ledger.entry_states),
so every reader shows each minor unit once, where it is."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ...domain.ledger import HOLD, Entry, LineFate, entry_states, totals_of
from .deps import Deps


def line_fates(d: Deps, partner_id: str, entries: Iterable[Entry]) -> list[LineFate]:
    """The partner's settlement lines that took any of `entries`, with their batch's status and
    whether their payout bounced: what `domain.ledger.entry_states` needs. Two batch reads."""
    wanted = {(e.settles_in, e.currency) for e in entries if e.settles_in and e.settles_in != HOLD}
    if not wanted:
        return []
    return d.uow.settlement.line_fates(partner_id, wanted)


def partner_ledger(d: Deps, partner_id: str, now: datetime) -> tuple[list[Entry], dict[str, str], dict]:
    """A partner's entries, the state of each and the totals by currency and state, derived from
    what settlement did with them (so every reader shows each minor unit once, where it is)."""
    entries = list(d.uow.ledger.of_partner(partner_id))
    fates = line_fates(d, partner_id, entries)
    due = d.cal.last_closeable(now)
    states = entry_states(entries, due, fates)
    return entries, states, totals_of(entries, states)
