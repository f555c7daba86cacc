"""Program KPIs (issue 16): the stream consumer that keeps the aggregates, and the KPI reads.

`take_in` is called by services/stream.consume with each batch of stream records (from DynamoDB
Streams in AWS, the follower of `make run`, the tests' drain). For every subject the batch touches
(a customer, member or not; a partner) it merges what the records say into the subject's state,
and commits the new states with the difference of their contributions to the aggregates, summed
per aggregate item, in one transaction per chunk, each state conditioned on the version read. A
redelivered or overlapping batch merges to the same states and adds nothing; a concurrent consumer
that moved a state first makes the chunk read again (domain/analytics.py has the rules).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..domain import analytics as an
from ..domain import rewards as rw
from ..domain.errors import ConcurrentUpdate, InvalidInput
from ..store.analytics import (
    AnalyticsRepo,
    EntrySeen,
    OrderSeen,
    PartnerSeen,
    PartnerState,
    ProfileSeen,
    RewardSeen,
    seen,
)
from ..store.uow import TransactOp, UnitOfWork

ATTEMPTS = 5
TRANSACTION = 100  # operations one transaction holds


def _person_changes(batch: list[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for s in batch:
        if isinstance(s, OrderSeen):
            out[s.person].append(s)
        elif isinstance(s, RewardSeen):
            out[s.member_id].append(s)
        elif isinstance(s, ProfileSeen):
            out[s.member_id].append(s)
            if s.advocate_id:
                out[s.advocate_id].append(("invite", s.member_id, s.joined))
    return out


def _partner_changes(batch: list[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for s in batch:
        if isinstance(s, PartnerSeen | EntrySeen):
            out[s.partner_id].append(s)
        elif isinstance(s, OrderSeen) and s.facts.partner:
            out[s.facts.partner].append(s)
    return out


def merge_person(p: an.Person, changes: Iterable[Any]) -> tuple[an.Person, list[tuple[an.Cell, int]]]:
    """The person's new state, and the additive cells of the rewards entries not taken in yet."""
    cells: list[tuple[an.Cell, int]] = []
    for c in sorted(changes, key=lambda c: c.seq if isinstance(c, ProfileSeen | RewardSeen) else ""):
        if isinstance(c, OrderSeen):
            p = an.with_order(p, c.order_id, c.facts)
        elif isinstance(c, ProfileSeen):
            p = an.with_profile(p, c.joined, c.tier, c.tier_day, c.seq)
        elif isinstance(c, RewardSeen):
            if c.seq > p.reward_mark:
                cells += list(c.cells)
                p = replace(p, reward_mark=c.seq)
        else:
            p = an.with_invite(p, c[1], c[2])
    return p, cells


def merge_partner(s: PartnerState, changes: Iterable[Any]) -> tuple[PartnerState, list[tuple[an.Cell, int]]]:
    """The partner's new state, and the additive cells of the ledger entries not taken in yet."""
    facts, marks, cells = s.facts, dict(s.marks), []
    for c in sorted(changes, key=lambda c: c.seq if isinstance(c, EntrySeen) else ""):
        if isinstance(c, PartnerSeen):
            facts = replace(facts, joined=facts.joined or c.joined)
        elif isinstance(c, OrderSeen):
            facts = replace(facts, active=facts.active | {an.month_of(c.facts.day)})
        elif c.seq > marks.get(c.partition, ""):
            cells += list(c.cells)
            marks[c.partition] = c.seq
    return PartnerState(facts, marks), cells


def take_in(uow: UnitOfWork, records: list[dict[str, Any]]) -> int:
    """Take a batch of stream records in; returns how many subjects' states moved."""
    repo = uow.analytics
    batch = seen(records)
    people, partners = _person_changes(batch), _partner_changes(batch)
    moved = 0
    for _ in range(ATTEMPTS):
        if not people and not partners:
            return moved
        units: list[tuple[tuple[str, str], TransactOp, list[tuple[an.Cell, int]]]] = []
        for pid, (old, version) in repo.people(people).items():
            new, added = merge_person(old, people[pid])
            if new != old:
                delta = an.difference(an.contributions(new), an.contributions(old))
                units.append((("person", pid), repo.save_person(pid, new, version), [*delta.items(), *added]))
        for rid, (olds, version) in repo.partners(partners).items():
            news, cells = merge_partner(olds, partners[rid])
            if news != olds:
                delta = an.difference(an.partner_contributions(news.facts), an.partner_contributions(olds.facts))
                units.append((("partner", rid), repo.save_partner(rid, news, version), [*delta.items(), *cells]))
        failed = _commit(uow, repo, units)
        moved += len(units) - len(failed)
        people = {k: v for k, v in people.items() if ("person", k) in failed}
        partners = {k: v for k, v in partners.items() if ("partner", k) in failed}
    raise ConcurrentUpdate("analytics states kept moving; the batch will be retried")


def _commit(uow: UnitOfWork, repo: AnalyticsRepo, units: list[Any]) -> set[tuple[str, str]]:
    """Commit the units in chunks (states + the summed aggregate deltas of their contributions, in
    one transaction); returns the subjects of the chunks another writer got in the way of."""
    failed: set[tuple[str, str]] = set()
    chunk: list[Any] = []
    items: set[str] = set()

    def flush() -> None:
        if not chunk:
            return
        aggregates = an.by_item(cell for _, _, cells in chunk for cell in cells)
        uow.add(*(w for _, w, _ in chunk), *(repo.add(i, d) for i, d in sorted(aggregates.items())))
        try:
            uow.commit()
        except ConcurrentUpdate:
            failed.update(subject for subject, _, _ in chunk)
        chunk.clear()
        items.clear()

    for unit in units:
        touched = {item for (item, _), _ in unit[2]}
        if chunk and len(chunk) + 1 + len(items | touched) > TRANSACTION:
            flush()
        chunk.append(unit)
        items.update(touched)
    flush()
    return failed


# ---- reads ------------------------------------------------------------------------------------

KPIS = ("members", "partners", "rewards")
MAX_MONTHS = 36  # the longest period one read shows
MAX_BACK = 120  # how far back (months before now) a period may start


def _check_period(first: str, last: str, now: datetime) -> tuple[list[str], list[str]]:
    this = now.strftime("%Y-%m")
    for m in (first, last):
        if not (len(m) == 7 and m[4] == "-" and m[:4].isdigit() and m[5:].isdigit() and 1 <= int(m[5:]) <= 12):
            raise InvalidInput("from and to are months, YYYY-MM", code="invalid_period")
    if first > last or last > this:
        raise InvalidInput("from must not be after to, nor to after this month", code="invalid_period")
    months = an.months_between(first, last)
    if len(months) > MAX_MONTHS or an.months_apart(first, this) > MAX_BACK:
        raise InvalidInput(
            f"a period is at most {MAX_MONTHS} months, starting at most {MAX_BACK} months ago", code="invalid_period"
        )
    return months, an.months_between(last, this)[1:]


def kpi(uow: UnitOfWork, name: str, first: str, last: str, currency: str, now: datetime) -> dict[str, Any]:
    """One KPI family for the months from `first` to `last`, in `currency`: one batch read of a number
    of aggregate items that depends on the period (and how far back it is), never on the history."""
    if name not in KPIS:
        raise InvalidInput(f"unknown KPI {name!r}; one of {', '.join(KPIS)}", code="unknown_kpi")
    if not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
        raise InvalidInput("currency is an ISO code like USD", code="invalid_currency")
    months, later = _check_period(first, last, now)
    repo = uow.analytics
    if name == "members":
        ids = [an.TOTAL, *(f"{k}#{m}" for m in months for k in ("M", f"C#{currency}", "J")), *(f"M#{m}" for m in later)]
        return an.members_kpis(repo.aggregates(ids), months, currency, later)
    if name == "rewards":
        program = rw.program_in_force(uow.members.programs(), now)
        if currency != program.currency:
            raise InvalidInput(f"rewards are in the program's currency, {program.currency}", code="invalid_currency")
        ids = [an.TOTAL, *(f"R#{m}" for m in months + later)]
        return an.rewards_kpis(repo.aggregates(ids), months, later, program.point_value_minor)
    ids = [f"{k}#{m}" for m in months for k in ("M", f"C#{currency}", f"P#{currency}")]
    return an.partners_kpis(repo.aggregates(ids), months, currency)


def csv_rows(result: dict[str, Any]) -> str:
    """A KPI result as CSV: each table in turn, a blank line between them, its name as the first column."""
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for table, rows in result.items():
        if not rows:
            continue
        cols = list(dict.fromkeys(k for r in rows for k in r))
        w.writerow(["table", *cols])
        for r in rows:
            w.writerow([table, *("" if r.get(c) is None else r.get(c) for c in cols)])
        w.writerow([])
    return out.getvalue()
