"""Running a period's settlement: which periods are due, the steps in order (batch, closing,
bonuses and ranks, the shards here or fanned out, finalize), and the fan-out worker's shard job.
Each step is idempotent, so a second run, a concurrent one or a rerun after a crash ends the same."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from ...domain.actors import system
from ...domain.errors import ConcurrentUpdate, Conflict, Unprocessable
from ...domain.finance_review import blocked_reason
from ...domain.periods import BONUSED, CLOSED, CLOSING, next_period
from ...domain.settlement import BUILDING, DRAFT, RECONCILIATION_FAILED, reconcile, shard_of
from ...exports import control_json
from ...observability import logger, metrics
from ...store.settlement import SHARDS
from .bonuses import apply_ranks, compute_bonuses
from .deps import Deps, plan_for
from .exports import build_exports, store_exports
from .shards import settle_shard

SYSTEM = system("schedule")  # the daily run's name on what it does
UNFINISHED = (BUILDING, RECONCILIATION_FAILED)  # a batch settlement still has to finish


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
    blocked = blocked_reason(
        period,
        now,
        settles_from=d.cal.settles_from(period),
        first_period=_first_period(d),
        settled_through=d.uow.settlement.settled_through(),
    )
    if blocked is not None:
        if blocked.code == "earlier_period_open":
            raise Conflict(blocked.message, code=blocked.code)
        raise Unprocessable(blocked.message, code=blocked.code)
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
        return _written(d.uow.settlement.batch(period), period)
    # In-process, the shards (independent by construction: disjoint partners) overlap their waits
    # on the database; the result is the same as settling them one after another.
    with ThreadPoolExecutor(max_workers=d.shard_threads) as pool:
        list(pool.map(lambda shard: settle_shard(d, period, shard, plan), range(SHARDS)))
    return _written(finalize(d, period, now), period)


def _written(batch: dict[str, Any] | None, period: str) -> dict[str, Any]:
    """The batch a close has written (its status moved when the close began)."""
    if batch is None:
        raise ConcurrentUpdate(f"the batch of {period} could not be read back; run the settlement again")
    return batch


def work_shard(d: Deps, period: str, shard: int, now: datetime) -> dict[str, Any] | None:
    """A fan-out worker's job: settle the shard, and finalize the batch if it was the last one."""
    settle_shard(d, period, shard)
    return finalize(d, period, now)


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
    exports = store_exports(d, period, built)
    rec = reconcile(control, ledger["minor"], ledger["count"])
    status = DRAFT if rec.ok else RECONCILIATION_FAILED
    finished = d.uow.settlement.finish_batch(
        period, status, control_json(control), exports, {"ok": rec.ok, "problems": rec.problems, "ledger": ledger}, now
    )
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
