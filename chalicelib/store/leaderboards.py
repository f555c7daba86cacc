"""Cached leaderboards, and what their builder reads: partners and members off their GSI1 lists
(queries on existing indexes, never a scan), and the opt-out flag on each one's own item.

A board is a head item (`BOARD#{board}#{period}#{currency}` / `HEAD`: when it was built, its top
rows, how many rows) and every row's rank in chunks of that partition, spread by subject id, so a
caller's own rank is two reads however long the board. A build writes its chunks into the slot the
head does not name, then the head: a reader always sees one build's ranks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..domain.leaderboards import MAX_TOP, Row
from ..domain.settlement import shard_of
from . import keys, schema
from .items import iso
from .ops import Present, Put, Update
from .partners import partner_from

CHUNK_ROWS = 2_000  # rows per chunk item: under 100 bytes each (a name is capped), well under 400 KB
OPT_OUT = "leaderboard_opt_out"


@dataclass(frozen=True)
class PartnerFacts:
    partner_id: str
    name: str
    sponsor_id: str | None  # at enrolment: who recruited it
    created_at: str  # ISO
    upline_ids: tuple[str, ...]
    opted_out: bool


@dataclass(frozen=True)
class MemberFacts:
    member_id: str
    invite_code: str
    invites_by_day: dict[str, int] = field(default_factory=dict)  # "YYYYMMDD" -> successful invites
    opted_out: bool = False


@dataclass(frozen=True)
class Board:
    board: str
    period: str
    currency: str
    built_at: str
    size: int
    top: tuple[Row, ...]
    slot: int
    chunks: int


def _rows(raw: list[list[Any]]) -> tuple[Row, ...]:
    return tuple(Row(int(r[0]), r[1], r[2], int(r[3])) for r in raw)


class LeaderboardRepo:
    def __init__(self, table: Any):
        self.table = table

    # ---- what a build reads ---------------------------------------------------------------------
    def partners(self) -> Iterator[PartnerFacts]:
        """Every partner, off the partners' list (GSI1), page by page."""
        for item in self.table.query(keys.PARTNERS_INDEX, index=schema.GSI1, page_size=500):
            p = partner_from(item)
            yield PartnerFacts(
                p.partner_id,
                p.name,
                p.schedule[0].sponsor_id,
                iso(p.created_at) if p.created_at else "",
                p.upline_ids,
                bool(item.get(OPT_OUT)),
            )

    def members(self) -> Iterator[MemberFacts]:
        """Every member, off the members' list partitions (GSI1, all attributes projected)."""
        for pk in (keys.MEMBERS_INDEX, *(keys.members_index(sub) for sub in range(keys.MEMBER_SUBS))):
            for item in self.table.query(pk, index=schema.GSI1, page_size=500):
                days = {
                    name.split("#")[1]: int(v)
                    for name, v in item.items()
                    if name.startswith("d#") and name.endswith("#i") and v
                }
                yield MemberFacts(item["member_id"], item.get("invite_code", ""), days, bool(item.get(OPT_OUT)))

    # ---- the cache ------------------------------------------------------------------------------
    def head(self, board: str, period: str, currency: str) -> Board | None:
        item = self.table.get(keys.leaderboard(board, period, currency), consistent=False)
        if item is None:
            return None
        return Board(
            board,
            period,
            currency,
            item["built_at"],
            int(item["size"]),
            _rows(item.get("top", [])),
            int(item["slot"]),
            int(item["chunks"]),
        )

    def rank_of(self, b: Board, subject_id: str) -> tuple[int, int] | None:
        """(rank, amount) of one subject in the board's build, or None: not on it."""
        chunk = shard_of(subject_id, b.chunks)
        item = self.table.get(keys.leaderboard_ranks(b.board, b.period, b.currency, b.slot, chunk), consistent=False)
        found = ((item or {}).get("ranks") or {}).get(subject_id)
        return (int(found[0]), int(found[1])) if found else None

    def rows(self, b: Board) -> list[Row]:
        """Every row of the build, best first: for staff."""
        out = []
        for chunk in range(b.chunks):
            item = self.table.get(keys.leaderboard_ranks(b.board, b.period, b.currency, b.slot, chunk))
            out += [Row(int(v[0]), sid, v[2], int(v[1])) for sid, v in ((item or {}).get("ranks") or {}).items()]
        return sorted(out, key=lambda r: r.rank)

    def write(self, board: str, period: str, currency: str, rows: list[Row], at: str) -> None:
        """Replace a board: its ranks into the free slot, then the head that names them."""
        current = self.head(board, period, currency)
        slot = 1 - current.slot if current else 0
        chunks = max(1, -(-len(rows) // CHUNK_ROWS))
        spread: list[dict[str, list[Any]]] = [{} for _ in range(chunks)]
        for r in rows:
            spread[shard_of(r.subject_id, chunks)][r.subject_id] = [r.rank, r.amount, r.label]
        for n, ranks in enumerate(spread):
            self.table.write(Put(keys.leaderboard_ranks(board, period, currency, slot, n), {"ranks": ranks}))
        top = [[r.rank, r.subject_id, r.label, r.amount] for r in rows[:MAX_TOP]]
        head = {"board": board, "period": period, "currency": currency, "built_at": at, "size": len(rows)}
        head |= {"top": top, "slot": slot, "chunks": chunks}
        self.table.write(Put(keys.leaderboard(board, period, currency), head))

    # ---- opting out -----------------------------------------------------------------------------
    def set_partner_opt_out(self, partner_id: str, opted_out: bool) -> bool:
        """False: no such partner (nothing written)."""
        return self.table.write(Update(keys.partner(partner_id), set={OPT_OUT: opted_out}, when=Present()))

    def set_member_opt_out(self, member_id: str, opted_out: bool) -> bool:
        return self.table.write(Update(keys.member(member_id), set={OPT_OUT: opted_out}, when=Present()))
