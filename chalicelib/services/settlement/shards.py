"""Settling one shard of partners: its lines computed (reads only, the rule is
domain/settlement.settle_line), then written, each with its carried balance; then the shard is done."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from ...domain.errors import Conflict
from ...domain.ledger import Entry
from ...domain.plans import Plan
from ...domain.settlement import Line, Posting, control_totals, settle_line, totals_by_partner
from ...store.settlement import NewLine
from .deps import Deps, plan_for

CHUNK = 100  # partners per batch read while settling a shard


def chunk_lines(
    d: Deps, period: str, shard: int, entries: Iterable[Entry | Posting], min_payout: int
) -> Iterator[tuple[list[Line], list[NewLine]]]:
    """For a stream of one shard's entries ordered by partner, CHUNK partners at a time: their lines
    and, among them, the new ones to write. A line an earlier or concurrent run stored is taken as
    stored. Reads only; `write_lines` writes."""
    grouped = totals_by_partner(entries)
    while chunk := list(islice(grouped, CHUNK)):
        pairs = [(pid, cur) for pid, acc in chunk for cur in sorted(acc)]
        existing = d.uow.settlement.lines_at(period, pairs)  # a crashed or concurrent run may have written some
        carries = d.uow.settlement.carries(pairs)
        partners = d.uow.partners.get_many({pid for pid, _ in chunk})
        lines: list[Line] = []
        fresh: list[NewLine] = []
        for pid, acc in chunk:
            for cur in sorted(acc):
                if (pid, cur) in existing:
                    lines.append(existing[(pid, cur)])
                    continue
                carry = carries.get((pid, cur))
                if carry is not None and carry["period"] == period:
                    # A concurrent run wrote this line (and moved the carry) between our two reads.
                    written = d.uow.settlement.lines_at(period, [(pid, cur)]).get((pid, cur))
                    if written is not None:
                        lines.append(written)
                        continue
                if carry is not None and carry["period"] >= period:
                    raise Conflict(f"{pid} {cur} was settled through {carry['period']} already", code="out_of_order")
                line = settle_line(period, pid, cur, acc[cur], carry["amount_minor"] if carry else 0, min_payout)
                lines.append(line)
                p = partners.get(pid)
                fresh.append(
                    NewLine(line, shard, p.name if p else "", d.payout_provider, carry["period"] if carry else None)
                )
        yield lines, fresh


def lines_of(d: Deps, period: str, shard: int, entries: Iterable[Entry | Posting], min_payout: int) -> Iterator[Line]:
    """The lines a stream of one shard's entries makes, written nowhere (the dry run's)."""
    for lines, _ in chunk_lines(d, period, shard, entries, min_payout):
        yield from lines


def write_lines(d: Deps, period: str, lines: list[Line], fresh: list[NewLine]) -> list[Line]:
    """Write the new lines (each with its carried balance); `lines` as stored afterwards: where a
    concurrent run wrote one first, its line stands."""
    if not fresh:
        return lines
    lost = [new.line for new, ok in zip(fresh, d.uow.settlement.write_lines(fresh), strict=True) if not ok]
    if not lost:
        return lines
    stored = d.uow.settlement.lines_at(period, [(ln.partner_id, ln.currency) for ln in lost])
    return [stored.get((ln.partner_id, ln.currency), ln) for ln in lines]


def _await_bonuses(d: Deps, period: str, shard: int) -> None:
    """The bonus entries were written moments ago and the settlement index is read eventually:
    settle a shard only once the index shows every bonus recorded for it (else a line would miss
    one). Waits a little (`d.sleep`), then refuses; the worker's message, or the next run, tries again."""
    expected = int(((d.uow.settlement.period(period) or {}).get("bonus_counts") or {}).get(str(shard), 0))
    for attempt in range(6):
        if expected == 0 or d.uow.settlement.bonus_entries_visible(period, shard) >= expected:
            return
        d.sleep(0.1 * 2**attempt)
    raise Conflict(
        f"the settlement index does not show all of {period}'s bonuses for shard {shard} yet; retry",
        code="index_lagging",
    )


def settle_shard(d: Deps, period: str, shard: int, plan: Plan | None = None) -> None:
    """Write the lines of one shard of partners, then mark the shard done. Idempotent."""
    if d.uow.settlement.shard_done(period, shard):
        return
    _await_bonuses(d, period, shard)
    plan = plan or plan_for(d.uow, d.cal, period)
    chunks = chunk_lines(d, period, shard, d.uow.settlement.postings_to_settle(period, shard), plan.min_payout_minor)
    # Each chunk is written before the next is read, as the generator is consumed.
    control = control_totals(line for lines, fresh in chunks for line in write_lines(d, period, lines, fresh))
    d.uow.settlement.finish_shard(period, shard, control)
    d.tick("shard")
