"""Close periods, compute bonuses and ranks, build settlement batches, and take them through finance.

A period's settlement is a fixed sequence of idempotent steps, each safe to run twice, concurrently,
or again after a crash half-way: start closing (entries stop landing in the period), write the
bonus entries, apply the ranks, settle each shard of partners (a line and a carried balance per
partner and currency, written together), and finalize (exports, reconciliation). The shards run in
this process or fan out over SQS; both paths run the same functions and produce the same bytes.
"""
from __future__ import annotations

import heapq
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Iterator

from ..auth import Principal
from ..domain import bonuses as rules
from ..domain.actors import same_person, system
from ..domain.errors import Conflict, NotFound, Unprocessable
from ..domain.ledger import (BONUS, HOLD, PAYOUT_RETURN, Entry, LineFate, bonus_entry_id, entry_states,
                             totals_of)
from ..domain.maker_checker import require_checker
from ..domain.periods import BONUSED, CLOSED, CLOSING, OPEN, Calendar, next_period, previous_period
from ..domain.plans import Plan, plan_in_force
from ..domain.tree import Node
from ..domain.settlement import (APPROVED, BUILDING, DRAFT, FAILED, PAID, RECONCILIATION_FAILED, Control, Line, Posting,
                                 Totals,
                                 control_totals, reconcile, settle_line, shard_of, totals_by_partner)
from ..exports import (DETAIL_COLUMNS, SUMMARY_COLUMNS, CsvOut, HashingWriter, control_json, detail_row, dumps,
                       entry_json, line_json, summary_row)
from ..observability import logger, metrics
from ..payouts import Payout, provider
from ..domain.standing import TreeRules
from ..store.files import FileStore, sha256
from ..store.settlement import SHARDS, NewLine
from ..store.uow import UnitOfWork
from . import partners as partner_svc

CHUNK = 100  # partners per batch read while settling a shard
SYSTEM = system("schedule")  # the daily run's name on what it does
UNFINISHED = (BUILDING, RECONCILIATION_FAILED)  # a batch settlement still has to finish
EXPORTS = {"summary": ("summary.csv", "text/csv"), "detail": ("detail.csv", "text/csv"),
           "json": ("export.json", "application/json")}

Progress = Callable[[str, int], None]


@dataclass
class Deps:
    uow: UnitOfWork
    files: FileStore
    cal: Calendar
    tree: TreeRules = TreeRules()
    payout_provider: str = "bank_transfer"
    fanout: Callable[[str, int], None] | None = None  # hand (period, shard) to a worker; None: settle here
    progress: Progress | None = None
    shard_threads: int = 1  # shards settled at once in-process (bootstrap passes the setting, default 4)

    def tick(self, what: str, n: int = 1) -> None:
        if self.progress:
            self.progress(what, n)


def plan_for(uow: UnitOfWork, cal: Calendar, period: str) -> Plan:
    """The plan version in force at the period's last instant: the one its bonuses and payouts use."""
    return plan_in_force(uow.plans.all(), cal.end(period) - timedelta(microseconds=1))


def _first_period(d: Deps) -> str | None:
    """The program's first period: that of its earliest plan version."""
    plans = d.uow.plans.all()
    return d.cal.period_of(min(p.effective_from for p in plans)) if plans else None


def periods_to_close(d: Deps, now: datetime) -> list[str]:
    """Every period past its lock that is not settled yet, oldest first."""
    done = d.uow.settlement.settled_through()
    first = next_period(done) if done else _first_period(d)
    if first is None:
        return []
    last = d.cal.last_closeable(now)
    out, p = [], first
    while p <= last:
        out.append(p)
        p = next_period(p)
    return out


def run_daily(d: Deps, now: datetime, by: str = SYSTEM) -> list[dict[str, Any]]:
    """The scheduled run: close every period past its lock, in order. With fan-out, it stops at the
    first period whose shards are still out with the workers (the next run picks up from there)."""
    results = []
    for period in periods_to_close(d, now):
        batch = close_period(d, period, now, by)
        results.append({"period": period, "status": batch["status"]})
        if batch["status"] in UNFINISHED:
            break
    return results


def close_period(d: Deps, period: str, now: datetime, by: str) -> dict[str, Any]:
    """Settle one period (or finish settling it). Safe to run again at any point."""
    batch = d.uow.settlement.batch(period)
    if batch is not None and batch["status"] not in UNFINISHED:
        finish_closing(d, period, now)  # a run may have died between the batch and these last steps
        return batch
    if not d.cal.closeable(period, now):
        raise Unprocessable(f"{period} can be settled from {d.cal.settles_from(period).isoformat()} (its lock, "
                           f"{d.cal.lock_at(period).isoformat()}, and the fence after it)", code="period_not_locked")
    done = d.uow.settlement.settled_through()
    first = _first_period(d)
    if (done is not None and done < previous_period(period)) or (done is None and first is not None and period > first):
        todo = next_period(done) if done is not None else first
        raise Conflict(f"settle {todo} first: periods are settled in order, so no entry is left behind",
                       code="earlier_period_open")
    plan = plan_for(d.uow, d.cal, period)
    d.uow.settlement.create_batch(period, by, now, plan.version)
    d.uow.settlement.touch_batch(period, by)
    status = d.uow.settlement.start_closing(period, now, by)
    if status == CLOSING:
        bonus_entries = compute_bonuses(d, period, plan)
        d.uow.settlement.write_bonuses(bonus_entries)
        d.tick("bonus", len(bonus_entries))
        counts = {shard: 0 for shard in range(SHARDS)}
        for e in bonus_entries:
            counts[shard_of(e.partner_id, SHARDS)] += 1
        d.uow.settlement.set_period_status(period, CLOSING, BONUSED, now, bonus_counts=counts)
    apply_ranks(d, period, plan, now)
    if d.fanout is not None:
        for shard in range(SHARDS):
            d.fanout(period, shard)
        return d.uow.settlement.batch(period)
    # In-process, the shards (independent by construction: disjoint partners) overlap their waits
    # on the database; the result is the same as settling them one after another.
    with ThreadPoolExecutor(max_workers=d.shard_threads) as pool:
        list(pool.map(lambda shard: settle_shard(d, period, shard, plan), range(SHARDS)))
    return finalize(d, period, now)


# ---- bonuses and ranks --------------------------------------------------------------------------

def _closing(d: Deps, period: str) -> datetime:
    """The instant a period's standings are taken at: its last."""
    return d.cal.end(period) - timedelta(microseconds=1)


def _volumes(d: Deps, period: str, bonus: rules.BonusRules) -> tuple[dict[str, rules.Volume], dict[str, Node]]:
    """Each partner's personal and team volume in the period, and its standing at the close."""
    personal = {pid: net.get(bonus.currency, 0) for pid, net in d.uow.settlement.volumes(period)}
    partners = d.uow.partners.get_many(personal)
    levels = bonus.team_levels or d.tree.max_depth
    uplines = partner_svc.uplines_at(d.uow, partners, _closing(d, period), levels, d.tree)
    team = rules.team_volumes(personal, uplines, levels)
    ids = set(personal) | set(team)
    partners.update(d.uow.partners.get_many(ids - set(partners)))
    at = _closing(d, period)
    return ({pid: rules.Volume(personal.get(pid, 0), team.get(pid, 0)) for pid in ids},
            {pid: p.node_at(at) for pid, p in partners.items()})


def compute_bonuses(d: Deps, period: str, plan: Plan) -> list[Entry]:
    """The period's bonus entries, each with the trace that explains it. Only partners active at the
    close earn one (domain/bonuses.takes_part); everyone's sales count towards team volume."""
    if plan.bonus is None:
        return []
    volumes, standing = _volumes(d, period, plan.bonus)
    earners = {pid for pid in volumes if pid in standing and rules.takes_part(standing[pid].status)}
    targets = d.uow.settlement.targets(earners, period) if earners else {}
    out = []
    for pid in sorted(earners):
        rank, status = standing[pid].rank, standing[pid].status
        for b in rules.bonuses_at_close(volumes[pid], status, rank, targets.get(pid), plan.bonus):
            out.append(Entry(
                bonus_entry_id(period, b.kind, pid), BONUS, pid, f"bonus:{period}", 0, b.amount_minor,
                plan.bonus.currency, plan.version, b.trace.get("rate_bps") or 0, d.cal.end(period),
                d.cal.lock_at(period), period=period, settles_in=period,
                trace={**b.trace, "kind": b.kind, "period": period, "plan_version": plan.version, "rank": rank},
            ))
    return out


def apply_ranks(d: Deps, period: str, plan: Plan, now: datetime) -> None:
    """Evaluate rank rules on the period's volumes at its close; a new rank is scheduled to take
    effect once the fence has passed (domain/standing.py). A partner not active at the close keeps
    its rank (domain/bonuses.rank_at_close). Idempotent: a rank already scheduled or held is not
    scheduled again."""
    if plan.bonus is None or not plan.bonus.ranks:
        return
    volumes, _ = _volumes(d, period, plan.bonus)
    at = _closing(d, period)
    for partner in d.uow.partners.all():
        volume = volumes.get(partner.partner_id, rules.Volume(0, 0))
        held = partner.node_at(at)
        new = rules.rank_at_close(volume, held.status, held.rank, plan.bonus, "base")
        if new != held.rank and new != partner.latest.rank:
            d.uow.settlement.record_rank(partner.partner_id, next_period(period), new, held.rank, period)
            partner_svc.set_rank(d.uow, partner.partner_id, new, now, d.tree)


# ---- shards -------------------------------------------------------------------------------------

def _lines(d: Deps, period: str, shard: int, entries: Iterable[Entry | Posting], min_payout: int,
           write: bool) -> Iterator[Line]:
    """Lines for a stream of one shard's entries ordered by partner; written when `write`."""
    grouped = totals_by_partner(entries)
    while True:
        chunk: list[tuple[str, dict[str, Totals]]] = []
        for item in grouped:
            chunk.append(item)
            if len(chunk) == CHUNK:
                break
        if not chunk:
            return
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
                        yield written
                        continue
                if carry is not None and carry["period"] >= period:
                    raise Conflict(f"{pid} {cur} was settled through {carry['period']} already", code="out_of_order")
                line = settle_line(period, pid, cur, acc[cur], carry["amount_minor"] if carry else 0, min_payout)
                lines.append(line)
                p = partners.get(pid)
                fresh.append(NewLine(line, shard, p.name if p else "", d.payout_provider,
                                     carry["period"] if carry else None))
        if write and fresh:
            lost = [new.line for new, ok in zip(fresh, d.uow.settlement.write_lines(fresh)) if not ok]
            if lost:  # a concurrent run wrote these first: report what is stored
                stored = d.uow.settlement.lines_at(period, [(ln.partner_id, ln.currency) for ln in lost])
                lines = [stored.get((ln.partner_id, ln.currency), ln) for ln in lines]
        yield from lines


def _await_bonuses(d: Deps, period: str, shard: int) -> None:
    """The bonus entries were written moments ago and the settlement index is read eventually:
    settle a shard only once the index shows every bonus recorded for it (else a line would miss
    one). Waits a little, then refuses; the worker's message, or the next run, tries again."""
    expected = int(((d.uow.settlement.period(period) or {}).get("bonus_counts") or {}).get(str(shard), 0))
    for attempt in range(6):
        if expected == 0 or d.uow.settlement.bonus_entries_visible(period, shard) >= expected:
            return
        time.sleep(0.1 * 2 ** attempt)
    raise Conflict(f"the settlement index does not show all of {period}'s bonuses for shard {shard} yet; "
                   "retry", code="index_lagging")


def settle_shard(d: Deps, period: str, shard: int, plan: Plan | None = None) -> None:
    """Write the lines of one shard of partners, then mark the shard done. Idempotent."""
    if d.uow.settlement.shard_done(period, shard):
        return
    _await_bonuses(d, period, shard)
    plan = plan or plan_for(d.uow, d.cal, period)
    control = control_totals(_lines(d, period, shard, d.uow.settlement.postings_to_settle(period, shard),
                                    plan.min_payout_minor, write=True))
    d.uow.settlement.finish_shard(period, shard, control)
    d.tick("shard")


def work_shard(d: Deps, period: str, shard: int, now: datetime) -> dict[str, Any] | None:
    """A fan-out worker's job: settle the shard, and finalize the batch if it was the last one."""
    settle_shard(d, period, shard)
    return finalize(d, period, now)


# ---- finalize: exports and reconciliation ---------------------------------------------------------

def export_key(period: str, name: str) -> str:
    return f"exports/{period}/{name}"


def build_exports(d: Deps, period: str, plan_version: int) -> tuple[dict[str, Any], dict[str, Control], dict]:
    """Write the summary, detail and JSON exports to temporary files, streaming; returns
    ({name: (file, sha256, size, rows)}, control totals, ledger sums and counts per currency)."""
    files = {name: tempfile.TemporaryFile() for name in ("summary", "detail", "json_lines", "json_entries")}
    out = {name: HashingWriter(f) for name, f in files.items()}
    detail = CsvOut(out["detail"], DETAIL_COLUMNS)
    ledger_minor: dict[str, int] = {}
    ledger_count: dict[str, int] = {}
    first = True
    for shard in range(SHARDS):
        for e in d.uow.settlement.entries_to_settle(period, shard):
            detail.row(detail_row(period, e))
            ledger_minor[e.currency] = ledger_minor.get(e.currency, 0) + e.amount_minor
            ledger_count[e.currency] = ledger_count.get(e.currency, 0) + 1
            out["json_entries"].write((b"" if first else b",") + dumps(entry_json(period, e)))
            first = False
    summary = CsvOut(out["summary"], SUMMARY_COLUMNS)
    control: dict[str, Control] = {}
    first = True
    for line, details in d.uow.settlement.lines(period):
        summary.row(summary_row(period, line, details))
        control.setdefault(line.currency, Control()).add(line)
        out["json_lines"].write((b"" if first else b",") + dumps(line_json(period, line, details)))
        first = False
    control = dict(sorted(control.items()))
    # The JSON form: the same lines and entries, with the control totals, in one document.
    js = HashingWriter(tempfile.TemporaryFile())
    js.write(b'{"batch":' + dumps(period) + b',"plan_version":' + dumps(plan_version) + b',"control":'
             + dumps(control_json(control)) + b',"lines":[')
    for name in ("json_lines", "json_entries"):
        files[name].seek(0)
        while chunk := files[name].read(1 << 16):
            js.write(chunk)
        if name == "json_lines":
            js.write(b'],"entries":[')
    js.write(b"]}")
    files["json_lines"].close()
    files["json_entries"].close()
    built = {
        "summary": (files["summary"], out["summary"].digest, out["summary"].size, sum(c.lines for c in control.values())),
        "detail": (files["detail"], out["detail"].digest, out["detail"].size, sum(ledger_count.values())),
        "json": (js.target, js.digest, js.size, None),
    }
    return built, control, {"minor": ledger_minor, "count": ledger_count}


def finalize(d: Deps, period: str, now: datetime) -> dict[str, Any] | None:
    """Once every shard is done: exports, reconciliation, and the batch becomes a draft for finance.
    A batch that does not reconcile stays open (its period is not closed, nothing after it is
    settled) and is finalized again on the next run, until a correction makes it reconcile."""
    batch = d.uow.settlement.batch(period)
    if batch is None or batch["status"] not in UNFINISHED:
        if batch is not None:
            finish_closing(d, period, now)
        return batch
    if d.uow.settlement.shards_done(period) < SHARDS:
        return batch
    built, control, ledger = build_exports(d, period, batch["plan_version"])
    exports = {}
    for name, (f, digest, size, rows) in built.items():
        file_name, content_type = EXPORTS[name]
        d.files.put(export_key(period, file_name), f, content_type)
        f.close()
        exports[name] = {"file": file_name, "sha256": digest, "bytes": size, "rows": rows}
    rec = reconcile(control, ledger["minor"], ledger["count"])
    status = DRAFT if rec.ok else RECONCILIATION_FAILED
    finished = d.uow.settlement.finish_batch(period, status, control_json(control), exports,
                                    {"ok": rec.ok, "problems": rec.problems, "ledger": ledger}, now)
    if not rec.ok:
        metrics.add_metric(name="ReconciliationFailed", unit="Count", value=1)
        logger.error("settlement reconciliation failed", extra={"period": period, "problems": rec.problems})
        return d.uow.settlement.batch(period)
    if finished:
        metrics.add_metric(name="SettlementCompleted", unit="Count", value=1)
    finish_closing(d, period, now)
    return d.uow.settlement.batch(period)


def finish_closing(d: Deps, period: str, now: datetime) -> None:
    """The last steps of a settlement, once its batch is finished: the period is closed and the
    program is settled through it. Idempotent; repeated by every later run (and before approval)
    until both hold, so a crash between the batch and these writes cannot leave the period
    half-closed or block the next period's settlement."""
    if (d.uow.settlement.period(period) or {}).get("status") != CLOSED:
        d.uow.settlement.set_period_status(period, BONUSED, CLOSED, now)
    done = d.uow.settlement.settled_through()
    if done is None or done < period:
        d.uow.settlement.set_settled_through(period)


def verify_exports(d: Deps, period: str) -> dict[str, bool]:
    """Regenerate a batch's exports and compare them with the recorded checksums and stored files."""
    batch = _batch(d, period)
    built, _, _ = build_exports(d, period, batch["plan_version"])
    result = {}
    for name, (f, digest, _, _) in built.items():
        f.close()
        stored = d.files.get(export_key(period, EXPORTS[name][0]))
        result[name] = digest == batch["exports"][name]["sha256"] == sha256(stored)
    return result


# ---- dry run ------------------------------------------------------------------------------------

def dry_run(d: Deps, period: str, now: datetime) -> dict[str, Any]:
    """What settling `period` now would produce, written nowhere. A settled period shows its batch."""
    batch = d.uow.settlement.batch(period)
    if batch is not None and batch["status"] != BUILDING:
        return {"period": period, "dry_run": True, "settled": True, "batch": batch,
                "lines": [_line_view(line, details) for line, details in d.uow.settlement.lines(period)]}
    plan = plan_for(d.uow, d.cal, period)
    status = (d.uow.settlement.period(period) or {}).get("status", OPEN)
    bonus_entries = compute_bonuses(d, period, plan) if status in (OPEN, CLOSING) else []
    if status == CLOSING:  # some may be written already; count those once
        written = d.uow.settlement.written(bonus_entries)
        bonus_entries = [e for e in bonus_entries if e.entry_id not in written]
    lines: list[Line] = []
    for shard in range(SHARDS):
        extra = sorted((e for e in bonus_entries if _shard(e.partner_id) == shard),
                       key=lambda e: f"{e.partner_id}#{e.entry_id}")
        stream = heapq.merge(d.uow.settlement.entries_to_settle(period, shard), extra,
                             key=lambda e: f"{e.partner_id}#{e.entry_id}")
        lines += _lines(d, period, shard, stream, plan.min_payout_minor, write=False)
    lines.sort(key=lambda ln: (ln.partner_id, ln.currency))
    return {
        "period": period, "dry_run": True, "settled": False, "plan_version": plan.version,
        "closeable": d.cal.closeable(period, now), "lock_at": d.cal.lock_at(period).isoformat(),
        "bonuses": [{"entry_id": e.entry_id, "partner_id": e.partner_id, "amount_minor": e.amount_minor,
                     "currency": e.currency, "trace": e.trace} for e in bonus_entries],
        "lines": [_line_view(ln, {}) for ln in lines],
        "control": control_json(control_totals(lines)),
    }


def _shard(partner_id: str) -> int:
    return shard_of(partner_id, SHARDS)


def _line_view(line: Line, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "payout_id": line.payout_id, "partner_id": line.partner_id, "partner_name": details.get("partner_name"),
        "currency": line.currency, "commissions_minor": line.commissions_minor,
        "bonuses_minor": line.bonuses_minor, "clawbacks_minor": line.clawbacks_minor,
        "adjustments_minor": line.adjustments_minor, "carried_in_minor": line.carried_in_minor,
        "payout_minor": line.payout_minor, "carried_out_minor": line.carried_out_minor,
        "entries": line.entry_count, "payout_status": details.get("payout_status"),
        "failure_reason": details.get("failure_reason"), "bounce_status": details.get("bounce_status"),
        "bounce_reported_by": details.get("bounce_reported_by"),
        "bounce_confirmed_by": details.get("bounce_confirmed_by"),
    }


def returned_payouts(d: Deps, period: str, line: Line) -> list[dict[str, Any]]:
    """The bounced payouts a line pays again (its adjustments), each with who reported and who
    confirmed the bounce: read from the payout_return entries it settled (rare, so read on demand)."""
    if not line.adjustments_minor:
        return []
    return [{"payout_id": e.order_id, "amount_minor": e.amount_minor, "entry_id": e.entry_id,
             **{k: (e.trace or {}).get(k) for k in ("reason", "reported_by", "confirmed_by")}}
            for e in d.uow.settlement.entries_of_line(period, line.partner_id)
            if e.kind == PAYOUT_RETURN and e.currency == line.currency]


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


# ---- finance: review, approve, pay ------------------------------------------------------------------

def _batch(d: Deps, period: str) -> dict[str, Any]:
    batch = d.uow.settlement.batch(period)
    if batch is None:
        raise NotFound(f"no settlement batch for {period}", code="unknown_batch")
    return batch


def batches(d: Deps) -> list[dict[str, Any]]:
    """Every period's batch, for finance's list."""
    return d.uow.settlement.batches()


def entries_of_line(d: Deps, period: str, partner_id: str) -> list[Entry]:
    """The ledger entries one partner's payout in a batch is made of."""
    return list(d.uow.settlement.entries_of_line(period, partner_id))


def show(d: Deps, period: str) -> dict[str, Any]:
    batch = _batch(d, period)
    return {"batch": batch, "lines": [{**_line_view(line, details), "returns": returned_payouts(d, period, line)}
                                      for line, details in d.uow.settlement.lines(period)],
            "events": d.uow.settlement.events(period)}


def approve(d: Deps, period: str, who: Principal, now: datetime) -> dict[str, Any]:
    """Maker-checker: a finance user other than the batch's maker approves it; the payout provider's
    file is produced at that moment."""
    who.require("finance")
    batch = _batch(d, period)
    if batch["status"] == APPROVED and same_person(batch.get("approved_by"), who.subject):
        return batch  # a retried approval
    if batch["status"] == RECONCILIATION_FAILED:
        raise Conflict("this batch did not reconcile; it cannot be approved", code="reconciliation_failed")
    if batch["status"] != DRAFT:
        raise Conflict(f"the batch is {batch['status']}, not draft", code="invalid_state")
    require_checker(who.subject, [batch["created_by"], batch["changed_by"], *batch.get("touched_by", [])],
                    "the batch must be approved by someone other than who created or last changed it")
    finish_closing(d, period, now)  # never pay out of a period that is not closed
    p = provider(d.payout_provider)
    payouts = [Payout(line.payout_id, period, line.partner_id, details.get("partner_name", ""), line.currency,
                      line.payout_minor) for line, details in d.uow.settlement.lines(period) if line.payout_minor > 0]
    data = p.issue(payouts)
    with tempfile.TemporaryFile() as f:
        f.write(data)
        d.files.put(export_key(period, p.file_name), f, p.content_type)
    payout_file = {"file": p.file_name, "provider": p.name, "sha256": sha256(data), "bytes": len(data),
                   "rows": len(payouts)}
    if not d.uow.settlement.transition(period, DRAFT, APPROVED, who.subject, now, {"payout_file": payout_file}) \
            and not _done_by(d, period, APPROVED, who):
        raise Conflict("the batch changed while approving; reload it", code="invalid_state")
    d.uow.settlement.add_event(period, f"{now.strftime('%Y%m%dT%H%M%S%f')}#approved",
                      {"event": "approved", "by": who.subject, "at": now.isoformat()})
    return _batch(d, period)


def _done_by(d: Deps, period: str, status: str, who: Principal) -> bool:
    """After a failed conditional transition: did this very call make it (its reply was lost and the
    retry found the batch already moved), rather than someone else?"""
    batch = _batch(d, period)
    return batch["status"] == status and same_person(batch.get(f"{status}_by"), who.subject)


def mark_paid(d: Deps, period: str, who: Principal, now: datetime) -> dict[str, Any]:
    """The bank confirmed the batch: every payout not marked failed is paid."""
    who.require("finance")
    batch = _batch(d, period)
    if batch["status"] == PAID:
        return batch
    if batch["status"] != APPROVED:
        raise Conflict(f"only an approved batch can be marked paid; this one is {batch['status']}",
                       code="invalid_state")
    if not d.uow.settlement.transition(period, APPROVED, PAID, who.subject, now) and not _done_by(d, period, PAID, who):
        raise Conflict("the batch changed; reload it", code="invalid_state")
    d.uow.settlement.add_event(period, f"{now.strftime('%Y%m%dT%H%M%S%f')}#paid",
                      {"event": "paid", "by": who.subject, "at": now.isoformat()})
    return _batch(d, period)
