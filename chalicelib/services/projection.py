"""The stream projector: partners' running figures from their ledgers, off the request path.

Called with a batch of stream records (from DynamoDB Streams in AWS, `@on_dynamodb_record`; from
DynamoDB Local's stream by `make run`; from the test helpers' drain). A redelivered batch, or one that
overlaps an earlier one, changes nothing (store/stats.py keeps a mark per ledger partition).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ..domain.errors import ConcurrentUpdate
from ..domain.ledger import COMMISSION, REVERSAL
from ..store.stats import TOTAL, LedgerChange, ledger_changes
from ..store.uow import UnitOfWork

ATTEMPTS = 5


def deltas_of(change: LedgerChange) -> list[tuple[str, dict[str, int]]]:
    """(TOTAL or a period, figure -> amount) that one ledger change adds."""
    if change.entry is not None:
        e = change.entry
        trace = e.trace or {}
        if e.kind == COMMISSION and trace.get("dispute") and trace.get("releases"):
            # A dispute won: what its opening reversed stands again (the held copy counted nothing).
            return [(TOTAL, {f"reversed_{e.currency}": -e.amount_minor})]
        if e.kind == COMMISSION and not (trace.get("releases") or trace.get("holds")):
            return [(TOTAL, {f"credited_{e.currency}": e.amount_minor})]
        if e.kind == REVERSAL:
            return [(TOTAL, {f"reversed_{e.currency}": -e.amount_minor})]
        return []
    s = change.sale or {}
    amount, cur, period = s["sale_minor"], s["sale_currency"], s["sale_period"]
    # Sales and refunds are kept apart (a partner sees both; a refund does not shrink "sales").
    moved = {f"sales_{cur}": amount} if amount >= 0 else {f"refunds_{cur}": -amount}
    total = {**moved, **({"attributed_orders": 1} if s.get("counts_order") else {})}
    return [(TOTAL, total), (period, moved)]


def project(uow: UnitOfWork, records: Iterable[dict[str, Any]]) -> int:
    """Take a batch of stream records in; returns how many figures items moved."""
    changes = ledger_changes(records)
    by_item: dict[tuple[str, str], list[tuple[LedgerChange, dict[str, int]]]] = defaultdict(list)
    for c in changes:
        for period, d in deltas_of(c):
            by_item[(c.partner_id, period)].append((c, d))
    moved = 0
    pending = dict(by_item)
    for _ in range(ATTEMPTS):
        if not pending:
            return moved
        current = uow.stats.get_many(pending)
        retry = {}
        for key, items in pending.items():
            f = current[key]
            deltas: dict[str, int] = defaultdict(int)
            marks: dict[str, str] = {}
            for c, d in items:
                if c.seq <= f.marks.get(c.partition, ""):
                    continue  # taken in already (a redelivery)
                for k, v in d.items():
                    deltas[k] += v
                marks[c.partition] = max(marks.get(c.partition, ""), c.seq)
            if not marks:
                continue
            if uow.write(uow.stats.apply(f, marks, dict(deltas))):
                moved += 1
            else:
                retry[key] = items  # another projector moved this item meanwhile: read it again
        pending = retry
    raise ConcurrentUpdate(f"figures for {sorted(pending)[:3]} kept moving; the batch will be retried")
