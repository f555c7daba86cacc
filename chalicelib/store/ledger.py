"""The partners' ledger: immutable entries (commissions, reversals, bonuses, returned payouts)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable, Iterator

from ..domain.ledger import Entry
from . import keys, schema
from .ops import Put, put_new
from .repository import entry_from, entry_item, iso


class LedgerRepo:
    def __init__(self, table: Any):
        self.table = table

    def new(self, e: Entry) -> Put:
        """An entry, written once (a retry finds it there)."""
        return put_new(keys.entry(e.partner_id, e.entry_id), entry_item(e))

    def of_partner(self, partner_id: str) -> Iterator[Entry]:
        """A partner's entries, oldest first, streamed page by page."""
        for item in self.table.query(keys.partner_ledger_index(partner_id), index=schema.GSI1):
            yield entry_from(item)

    def between(self, partner_id: str, start: datetime, end: datetime) -> Iterator[Entry]:
        """A partner's entries that occurred in [start, end), oldest first."""
        for item in self.table.query(keys.partner_ledger_index(partner_id), index=schema.GSI1,
                                     sk_between=(iso(start), iso(end - timedelta(microseconds=1)) + "~")):
            yield entry_from(item)

    def get(self, partner_id: str, entry_id: str) -> Entry | None:
        item = self.table.get(keys.entry(partner_id, entry_id))
        return entry_from(item) if item else None

    def written(self, entries: Iterable[Entry]) -> set[str]:
        """The ids of those of `entries` that are already in the ledger."""
        found = self.table.batch_get(keys.entry(e.partner_id, e.entry_id) for e in entries)
        return {item["entry_id"] for item in found.values()}
