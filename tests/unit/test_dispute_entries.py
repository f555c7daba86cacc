"""A dispute's entries (domain/ledger.py) and what the figures projection makes of them: an opened
dispute takes each commission back and holds a copy; won, the copies are released; the partner's
running figures end where the ledger does."""
from collections import Counter
from datetime import datetime, timedelta, timezone

from chalicelib.domain.ledger import (COMMISSION, HOLD, Entry, dispute_hold_entries, dispute_release_entries,
                                      totals_by_state)
from chalicelib.domain.periods import Calendar
from chalicelib.services.projection import deltas_of
from chalicelib.store.stats import LedgerChange

UTC = timezone.utc
AT = datetime(2026, 3, 10, tzinfo=UTC)
CAL = Calendar()


def original(level: int, amount: int) -> Entry:
    return Entry(f"o1#L{level}", COMMISSION, f"P-{level}", "o1", level, amount, "USD", 1, 1000, AT,
                 AT + timedelta(days=30), period="2026-03", settles_in="2026-04")


def figures(entries: list[Entry]) -> Counter:
    out: Counter = Counter()
    for e in entries:
        for _, d in deltas_of(LedgerChange(e.partner_id, "00", "1", entry=e)):
            out.update(d)
    return out


def test_an_opened_dispute_reverses_what_stands_and_holds_it_and_a_win_releases_it():
    commissions = [original(1, 1000), original(2, 500)]
    opened = dispute_hold_entries(commissions, [1000, 0], "dp_1", AT + timedelta(days=2), CAL, "2026-03")
    assert [(e.amount_minor, e.settles_in) for e in opened] == [(-1000, "2026-04"), (1000, HOLD)]  # level 2: refunded
    released = dispute_release_entries([e for e in opened if e.settles_in == HOLD], "dp_1",
                                       AT + timedelta(days=40), CAL)
    assert [(e.amount_minor, e.trace["releases"]) for e in released] == [(1000, "o1#L1#D#dp_1")]
    ledger = [commissions[0], *opened, *released]
    assert totals_by_state(ledger, "2026-01")["USD"]["pending"] == 1000  # the release, owed again
    assert figures(ledger) == Counter({"credited_USD": 1000, "reversed_USD": 0})


def test_a_lost_dispute_leaves_the_copy_held_and_the_figures_reversed():
    commissions = [original(1, 1000)]
    ledger = [*commissions, *dispute_hold_entries(commissions, [1000], "dp_1", AT, CAL, "2026-03")]
    assert {k: v for k, v in totals_by_state(ledger, "2026-12")["USD"].items() if v} == {"held": 1000}
    assert figures(ledger) == Counter({"credited_USD": 1000, "reversed_USD": 1000})
