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
from ..domain.settlement import (APPROVED, BUILDING, DRAFT, FAILED, PAID, RECONCILIATION_FAILED, Control, Line, Posting,
                                 Totals,
                                 control_totals, reconcile, settle_line, shard_of, totals_by_partner)
from ..exports import (DETAIL_COLUMNS, SUMMARY_COLUMNS, CsvOut, HashingWriter, control_json, detail_row, dumps,
                       entry_json, line_json, summary_row)
from ..observability import logger, metrics
from ..payouts import Payout, provider
from ..store import keys
from ..store.files import FileStore, sha256
from ..store.repository import Repository
from ..store.settlement import NewLine, SettlementStore
from . import partners as partner_svc

CHUNK = 100  # partners per batch read while settling a shard
SYSTEM = system("schedule")  # the daily run's name on what it does
UNFINISHED = (BUILDING, RECONCILIATION_FAILED)  # a batch settlement still has to finish
EXPORTS = {"summary": ("summary.csv", "text/csv"), "detail": ("detail.csv", "text/csv"),
           "json": ("export.json", "application/json")}

Progress = Callable[[str, int], None]


@dataclass
class Deps:
    repo: Repository
    store: SettlementStore
    files: FileStore
    cal: Calendar
    max_depth: int = 10
    payout_provider: str = "bank_transfer"
    fanout: Callable[[str, int], None] | None = None  # hand (period, shard) to a worker; None: settle here
    progress: Progress | None = None
    shard_threads: int = 1  # shards settled at once in-process (bootstrap passes the setting, default 4)

    def tick(self, what: str, n: int = 1) -> None:
        if self.progress:
            self.progress(what, n)


def plan_for(repo: Repository, cal: Calendar, period: str) -> Plan:
    """The plan version in force at the period's last instant: the one its bonuses and payouts use."""
    return plan_in_force(repo.plans(), cal.end(period) - timedelta(microseconds=1))


def _first_period(d: Deps) -> str | None:
    """The program's first period: that of its earliest plan version."""
    plans = d.repo.plans()
    return d.cal.period_of(min(p.effective_from for p in plans)) if plans else None


def periods_to_close(d: Deps, now: datetime) -> list[str]:
    """Every period past its lock that is not settled yet, oldest first."""
    done = d.store.settled_through()
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
    batch = d.store.batch(period)
    if batch is not None and batch["status"] not in UNFINISHED:
        finish_closing(d, period, now)  # a run may have died between the batch and these last steps
        return batch
    if not d.cal.closeable(period, now):
        raise Unprocessable(f"{period} is open until {d.cal.lock_at(period).isoformat()}", code="period_not_locked")
    done = d.store.settled_through()
    first = _first_period(d)
    if (done is not None and done < previous_period(period)) or (done is None and first is not None and period > first):
        todo = next_period(done) if done is not None else first
        raise Conflict(f"settle {todo} first: periods are settled in order, so no entry is left behind",
                       code="earlier_period_open")
    plan = plan_for(d.repo, d.cal, period)
    d.store.create_batch(period, by, now, plan.version)
    d.store.touch_batch(period, by)
    status = d.store.start_closing(period, now, by)
    if status == CLOSING:
        bonus_entries = compute_bonuses(d, period, plan)
        d.store.write_bonuses(bonus_entries)
        d.tick("bonus", len(bonus_entries))
        counts = {shard: 0 for shard in range(keys.SHARDS)}
        for e in bonus_entries:
            counts[shard_of(e.partner_id, keys.SHARDS)] += 1
        d.store.set_period_status(period, CLOSING, BONUSED, now, bonus_counts=counts)
    apply_ranks(d, period, plan)
    if d.fanout is not None:
        for shard in range(keys.SHARDS):
            d.fanout(period, shard)
        return d.store.batch(period)
    # In-process, the shards (independent by construction: disjoint partners) overlap their waits
    # on the database; the result is the same as settling them one after another.
    with ThreadPoolExecutor(max_workers=d.shard_threads) as pool:
        list(pool.map(lambda shard: settle_shard(d, period, shard, plan), range(keys.SHARDS)))
    return finalize(d, period, now)


# ---- bonuses and ranks --------------------------------------------------------------------------

def _volumes(d: Deps, period: str, bonus: rules.BonusRules) -> tuple[dict[str, rules.Volume], dict]:
    personal = {pid: net.get(bonus.currency, 0) for pid, net in d.store.volumes(period)}
    partners = d.repo.get_partners(personal)
    uplines = {pid: [n.partner_id for n in p.upline] for pid, p in partners.items()}
    team = rules.team_volumes(personal, uplines, bonus.team_levels or d.max_depth)
    ids = set(personal) | set(team)
    partners.update(d.repo.get_partners(ids - set(partners)))
    return {pid: rules.Volume(personal.get(pid, 0), team.get(pid, 0)) for pid in ids}, partners


def compute_bonuses(d: Deps, period: str, plan: Plan) -> list[Entry]:
    """The period's bonus entries, each with the trace that explains it. Only partners active at the
    close earn one (domain/bonuses.takes_part); everyone's sales count towards team volume."""
    if plan.bonus is None:
        return []
    volumes, partners = _volumes(d, period, plan.bonus)
    earners = {pid for pid in volumes if pid in partners and rules.takes_part(partners[pid].status)}
    targets = d.store.targets(earners, period) if earners else {}
    out = []
    for pid in sorted(earners):
        rank, status = partners[pid].rank, partners[pid].status
        for b in rules.bonuses_at_close(volumes[pid], status, rank, targets.get(pid), plan.bonus):
            out.append(Entry(
                bonus_entry_id(period, b.kind, pid), BONUS, pid, f"bonus:{period}", 0, b.amount_minor,
                plan.bonus.currency, plan.version, b.trace.get("rate_bps") or 0, d.cal.end(period),
                d.cal.lock_at(period), period=period, settles_in=period,
                trace={**b.trace, "kind": b.kind, "period": period, "plan_version": plan.version, "rank": rank},
            ))
    return out


def apply_ranks(d: Deps, period: str, plan: Plan) -> None:
    """Evaluate rank rules on the period's volumes; a new rank takes effect for the next period. A
    partner not active at the close keeps its rank (domain/bonuses.rank_at_close).
    Idempotent: setting a partner to the rank it already has changes nothing."""
    if plan.bonus is None or not plan.bonus.ranks:
        return
    volumes, _ = _volumes(d, period, plan.bonus)
    for partner in d.repo.all_partners():
        volume = volumes.get(partner.partner_id, rules.Volume(0, 0))
        new = rules.rank_at_close(volume, partner.status, partner.rank, plan.bonus, "base")
        if new != partner.rank:
            d.store.record_rank(partner.partner_id, next_period(period), new, partner.rank, period)
            partner_svc.set_rank(d.repo, partner.partner_id, partner.rank, new)


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
        existing = d.store.lines_at(period, pairs)  # a crashed or concurrent run may have written some
        carries = d.store.carries(pairs)
        partners = d.repo.get_partners({pid for pid, _ in chunk})
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
                    written = d.store.lines_at(period, [(pid, cur)]).get((pid, cur))
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
            lost = [new.line for new, ok in zip(fresh, d.store.write_lines(fresh)) if not ok]
            if lost:  # a concurrent run wrote these first: report what is stored
                stored = d.store.lines_at(period, [(ln.partner_id, ln.currency) for ln in lost])
                lines = [stored.get((ln.partner_id, ln.currency), ln) for ln in lines]
        yield from lines


def _await_bonuses(d: Deps, period: str, shard: int) -> None:
    """The bonus entries were written moments ago and the settlement index is read eventually:
    settle a shard only once the index shows every bonus recorded for it (else a line would miss
    one). Waits a little, then refuses; the worker's message, or the next run, tries again."""
    expected = int(((d.store.period(period) or {}).get("bonus_counts") or {}).get(str(shard), 0))
    for attempt in range(6):
        if expected == 0 or d.store.bonus_entries_visible(period, shard) >= expected:
            return
        time.sleep(0.1 * 2 ** attempt)
    raise Conflict(f"the settlement index does not show all of {period}'s bonuses for shard {shard} yet; "
                   "retry", code="index_lagging")


def settle_shard(d: Deps, period: str, shard: int, plan: Plan | None = None) -> None:
    """Write the lines of one shard of partners, then mark the shard done. Idempotent."""
    if d.store.shard_done(period, shard):
        return
    _await_bonuses(d, period, shard)
    plan = plan or plan_for(d.repo, d.cal, period)
    control = control_totals(_lines(d, period, shard, d.store.postings_to_settle(period, shard),
                                    plan.min_payout_minor, write=True))
    d.store.finish_shard(period, shard, control)
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
    for shard in range(keys.SHARDS):
        for e in d.store.entries_to_settle(period, shard):
            detail.row(detail_row(period, e))
            ledger_minor[e.currency] = ledger_minor.get(e.currency, 0) + e.amount_minor
            ledger_count[e.currency] = ledger_count.get(e.currency, 0) + 1
            out["json_entries"].write((b"" if first else b",") + dumps(entry_json(period, e)))
            first = False
    summary = CsvOut(out["summary"], SUMMARY_COLUMNS)
    control: dict[str, Control] = {}
    first = True
    for line, details in d.store.lines(period):
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
    batch = d.store.batch(period)
    if batch is None or batch["status"] not in UNFINISHED:
        if batch is not None:
            finish_closing(d, period, now)
        return batch
    if d.store.shards_done(period) < keys.SHARDS:
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
    finished = d.store.finish_batch(period, status, control_json(control), exports,
                                    {"ok": rec.ok, "problems": rec.problems, "ledger": ledger}, now)
    if not rec.ok:
        metrics.add_metric(name="ReconciliationFailed", unit="Count", value=1)
        logger.error("settlement reconciliation failed", extra={"period": period, "problems": rec.problems})
        return d.store.batch(period)
    if finished:
        metrics.add_metric(name="SettlementCompleted", unit="Count", value=1)
    finish_closing(d, period, now)
    return d.store.batch(period)


def finish_closing(d: Deps, period: str, now: datetime) -> None:
    """The last steps of a settlement, once its batch is finished: the period is closed and the
    program is settled through it. Idempotent; repeated by every later run (and before approval)
    until both hold, so a crash between the batch and these writes cannot leave the period
    half-closed or block the next period's settlement."""
    if (d.store.period(period) or {}).get("status") != CLOSED:
        d.store.set_period_status(period, BONUSED, CLOSED, now)
    done = d.store.settled_through()
    if done is None or done < period:
        d.store.set_settled_through(period)


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
    batch = d.store.batch(period)
    if batch is not None and batch["status"] != BUILDING:
        return {"period": period, "dry_run": True, "settled": True, "batch": batch,
                "lines": [_line_view(line, details) for line, details in d.store.lines(period)]}
    plan = plan_for(d.repo, d.cal, period)
    status = (d.store.period(period) or {}).get("status", OPEN)
    bonus_entries = compute_bonuses(d, period, plan) if status in (OPEN, CLOSING) else []
    if status == CLOSING:  # some may be written already; count those once
        written = d.repo.table.batch_get(keys.entry(e.partner_id, e.entry_id) for e in bonus_entries)
        bonus_entries = [e for e in bonus_entries if keys.entry(e.partner_id, e.entry_id) not in written]
    lines: list[Line] = []
    for shard in range(keys.SHARDS):
        extra = sorted((e for e in bonus_entries if _shard(e.partner_id) == shard),
                       key=lambda e: f"{e.partner_id}#{e.entry_id}")
        stream = heapq.merge(d.store.entries_to_settle(period, shard), extra,
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
    return shard_of(partner_id, keys.SHARDS)


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
            for e in d.store.entries_of_line(period, line.partner_id)
            if e.kind == PAYOUT_RETURN and e.currency == line.currency]


def line_fates(d: Deps, partner_id: str, entries: Iterable[Entry]) -> list[LineFate]:
    """The partner's settlement lines that took any of `entries`, with their batch's status and
    whether their payout bounced: what `domain.ledger.entry_states` needs. Two batch reads."""
    wanted = {(e.settles_in, e.currency) for e in entries if e.settles_in and e.settles_in != HOLD}
    if not wanted:
        return []
    lines = d.repo.table.batch_get(keys.batch_line(p, partner_id, c) for p, c in wanted)
    batches = d.repo.table.batch_get(keys.batch(p) for p in {i["period"] for i in lines.values()})
    return [LineFate(i["period"], i["currency"], i["payout_minor"],
                     (batches.get(keys.batch(i["period"])) or {}).get("status", BUILDING),
                     i.get("payout_status") == FAILED) for i in lines.values()]


def partner_ledger(d: Deps, partner_id: str, now: datetime) -> tuple[list[Entry], dict[str, str], dict]:
    """A partner's entries, the state of each and the totals by currency and state, derived from
    what settlement did with them (so every reader shows each minor unit once, where it is)."""
    entries = list(d.repo.ledger(partner_id))
    fates = line_fates(d, partner_id, entries)
    due = d.cal.last_closeable(now)
    states = entry_states(entries, due, fates)
    return entries, states, totals_of(entries, states)


# ---- finance: review, approve, pay ------------------------------------------------------------------

def _batch(d: Deps, period: str) -> dict[str, Any]:
    batch = d.store.batch(period)
    if batch is None:
        raise NotFound(f"no settlement batch for {period}", code="unknown_batch")
    return batch


def show(d: Deps, period: str) -> dict[str, Any]:
    batch = _batch(d, period)
    return {"batch": batch, "lines": [{**_line_view(line, details), "returns": returned_payouts(d, period, line)}
                                      for line, details in d.store.lines(period)],
            "events": d.store.events(period)}


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
                      line.payout_minor) for line, details in d.store.lines(period) if line.payout_minor > 0]
    data = p.issue(payouts)
    with tempfile.TemporaryFile() as f:
        f.write(data)
        d.files.put(export_key(period, p.file_name), f, p.content_type)
    payout_file = {"file": p.file_name, "provider": p.name, "sha256": sha256(data), "bytes": len(data),
                   "rows": len(payouts)}
    if not d.store.transition(period, DRAFT, APPROVED, who.subject, now, {"payout_file": payout_file}) \
            and not _done_by(d, period, APPROVED, who):
        raise Conflict("the batch changed while approving; reload it", code="invalid_state")
    d.store.add_event(period, f"{now.strftime('%Y%m%dT%H%M%S%f')}#approved",
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
    if not d.store.transition(period, APPROVED, PAID, who.subject, now) and not _done_by(d, period, PAID, who):
        raise Conflict("the batch changed; reload it", code="invalid_state")
    d.store.add_event(period, f"{now.strftime('%Y%m%dT%H%M%S%f')}#paid",
                      {"event": "paid", "by": who.subject, "at": now.isoformat()})
    return _batch(d, period)
