"""What settling a period now would pay, written nowhere (the dry run): its bonuses, its lines and
their control totals, and whether (from when) it can be settled. A settled period shows its batch."""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Any

from ...domain.periods import CLOSING, OPEN
from ...domain.settlement import BUILDING, Line, control_totals, shard_of
from ...exports import control_json
from ...store.settlement import SHARDS
from .batches import line_view
from .bonuses import compute_bonuses
from .deps import Deps, plan_for
from .shards import lines_of


def dry_run(d: Deps, period: str, now: datetime) -> dict[str, Any]:
    """What settling `period` now would produce, written nowhere. A settled period shows its batch."""
    batch = d.uow.settlement.batch(period)
    if batch is not None and batch["status"] != BUILDING:
        return {
            "period": period,
            "dry_run": True,
            "settled": True,
            "batch": batch,
            "lines": [line_view(line, details) for line, details in d.uow.settlement.lines(period)],
        }
    plan = plan_for(d.uow, d.cal, period)
    status = (d.uow.settlement.period(period) or {}).get("status", OPEN)
    bonus_entries = compute_bonuses(d, period, plan) if status in (OPEN, CLOSING) else []
    if status == CLOSING:  # some may be written already; count those once
        written = d.uow.settlement.written(bonus_entries)
        bonus_entries = [e for e in bonus_entries if e.entry_id not in written]
    lines: list[Line] = []
    for shard in range(SHARDS):
        extra = sorted(
            (e for e in bonus_entries if shard_of(e.partner_id, SHARDS) == shard),
            key=lambda e: f"{e.partner_id}#{e.entry_id}",
        )
        stream = heapq.merge(
            d.uow.settlement.entries_to_settle(period, shard), extra, key=lambda e: f"{e.partner_id}#{e.entry_id}"
        )
        lines += lines_of(d, period, shard, stream, plan.min_payout_minor)
    lines.sort(key=lambda ln: (ln.partner_id, ln.currency))
    return {
        "period": period,
        "dry_run": True,
        "settled": False,
        "plan_version": plan.version,
        "closeable": d.cal.closeable(period, now),
        "lock_at": d.cal.lock_at(period).isoformat(),
        "bonuses": [
            {
                "entry_id": e.entry_id,
                "partner_id": e.partner_id,
                "amount_minor": e.amount_minor,
                "currency": e.currency,
                "trace": e.trace,
            }
            for e in bonus_entries
        ],
        "lines": [line_view(ln, {}) for ln in lines],
        "control": control_json(control_totals(lines)),
    }
