"""Leaderboards: built by a scheduled job (jobs.refresh_leaderboards, every few minutes) from the
figures that already exist, cached one board per (board, period, currency), and read from the cache.

What each board counts:
- partner_sales: the partner's sales less refunds in the period, as the stream projection has them
  (`PARTNER#{id}/PERIOD#{p}`, store/stats.py);
- partner_team_sales: the same, plus everyone's below it as far as its stored upline reaches;
- partner_recruits: partners enrolled in the period with it as their sponsor;
- member_invites: successful invites (the friend's qualifying first order) on the member's activity
  days in the period's calendar month.

Cost of a build: one paged query of the partners' list, one batch read per 100 partners for their
period figures, sixteen paged queries of the members' list, and one write per 2,000 rows of each
board. It grows with the number of partners and members, off the request path; a read is one or two
item reads whatever the size.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from ..domain import leaderboards as lb
from ..domain.periods import Calendar, previous_period
from ..store.items import iso
from ..store.uow import UnitOfWork


def periods_to_build(cal: Calendar, now: datetime) -> list[str]:
    """The period under way, and the one before it until it locks (late orders still land in it)."""
    current = cal.period_of(now)
    before = previous_period(current)
    return [before, current] if now < cal.lock_at(before) else [current]


def build(uow: UnitOfWork, period: str, cal: Calendar, now: datetime) -> dict[str, int]:
    """Rebuild every board of one period; returns rows per board ("board/currency")."""
    partners = list(uow.leaderboards.partners())
    labels = {p.partner_id: p.name for p in partners}
    opted = {p.partner_id for p in partners if p.opted_out}
    personal = uow.stats.in_period(list(labels), period)
    team = lb.team_totals(personal, {p.partner_id: p.upline_ids for p in partners})
    start, end = iso(cal.start(period)), iso(cal.end(period))
    recruited = lb.recruits(((p.partner_id, p.sponsor_id, p.created_at) for p in partners), start, end)

    boards: dict[tuple[str, str], list[lb.Candidate]] = defaultdict(list)
    for board, figures in ((lb.PARTNER_SALES, personal), (lb.PARTNER_TEAM_SALES, team)):
        for pid, by_currency in figures.items():
            for cur, amount in by_currency.items():
                boards[(board, cur)].append(lb.Candidate(pid, labels.get(pid, ""), amount, "", pid in opted))
    for pid, (n, reached) in recruited.items():
        boards[(lb.PARTNER_RECRUITS, lb.NO_CURRENCY)].append(
            lb.Candidate(pid, labels.get(pid, ""), n, reached, pid in opted)
        )
    month = period.replace("-", "")
    for m in uow.leaderboards.members():
        days = sorted(d for d in m.invites_by_day if d.startswith(month))
        if days:
            labels[m.member_id] = m.invite_code
            n = sum(m.invites_by_day[d] for d in days)
            boards[(lb.MEMBER_INVITES, lb.NO_CURRENCY)].append(
                lb.Candidate(m.member_id, m.invite_code, n, days[-1], m.opted_out)
            )
    for board in lb.COUNTED:
        boards.setdefault((board, lb.NO_CURRENCY), [])  # a counting board exists even when empty
    out = {}
    for (board, cur), candidates in sorted(boards.items()):
        rows = lb.ranked(candidates)
        uow.leaderboards.write(board, period, cur, rows, iso(now))
        out[f"{board}/{cur}"] = len(rows)
    return out


def refresh(uow: UnitOfWork, cal: Calendar, now: datetime) -> dict[str, dict[str, int]]:
    return {period: build(uow, period, cal, now) for period in periods_to_build(cal, now)}


def _currency(board: str, currency: str | None, default: str) -> str:
    return lb.NO_CURRENCY if board in lb.COUNTED else (currency or default)


def _row(r: lb.Row, subject_id: str | None, masked: bool) -> dict[str, Any]:
    out = {"rank": r.rank, "name": lb.mask(r.label) if masked else r.label, "amount": r.amount}
    if subject_id is not None:
        out["you"] = r.subject_id == subject_id
    return out


def for_subject(
    uow: UnitOfWork, board: str, period: str, currency: str | None, default_currency: str, subject_id: str, top: int
) -> dict[str, Any]:
    """What a partner (or member) sees: the top rows, names masked, and its own rank."""
    cur = _currency(board, currency, default_currency)
    head = uow.leaderboards.head(board, period, cur)
    body: dict[str, Any] = {"board": board, "period": period, "currency": cur, "built_at": None, "size": 0}
    if head is None:
        return {**body, "top": [], "you": None}
    mine = uow.leaderboards.rank_of(head, subject_id)
    return {
        **body,
        "built_at": head.built_at,
        "size": head.size,
        "top": [_row(r, subject_id, True) for r in head.top[:top]],
        "you": {"rank": mine[0], "amount": mine[1]} if mine else None,
    }


def full(uow: UnitOfWork, board: str, period: str, currency: str | None, default_currency: str) -> dict[str, Any]:
    """Staff: every row, with the subject's id, its name and the name as others see it."""
    cur = _currency(board, currency, default_currency)
    head = uow.leaderboards.head(board, period, cur)
    if head is None:  # not built yet (boards are rebuilt every few minutes): empty, not an error
        return {"board": board, "period": period, "currency": cur, "built_at": None, "size": 0, "rows": []}
    return {
        "board": board,
        "period": period,
        "currency": cur,
        "built_at": head.built_at,
        "size": head.size,
        "rows": [
            {"rank": r.rank, "id": r.subject_id, "name": r.label, "shown_as": lb.mask(r.label), "amount": r.amount}
            for r in uow.leaderboards.rows(head)
        ],
    }
