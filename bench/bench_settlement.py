"""Item 5 (and issue 3): settling 1,000 / 10,000 / 100,000 ledger entries spread over a realistic
partner tree. Wall time and time per entry, peak Python memory, DynamoDB units per settled entry,
and settlement's read rate against a raw paginated Query over the same items.

The partners are enrolled through the real service; the entries are what the order path writes
(the domain computes them, the store's own item shape is written with BatchWriteItem, because
going through the webhook for 100,000 entries would measure the order path again, not settlement).
The settlement itself is `services.settlement.close.close_period`, in-process, exactly as the daily job
runs it without a queue: bonuses, ranks, 8 shards of lines, exports to a folder, reconciliation.
"""
from __future__ import annotations

import multiprocessing
import random
import resource
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from chalicelib import bootstrap
from chalicelib.domain.bonuses import BonusRules, Tier
from chalicelib.domain.commissions import compute_commissions
from chalicelib.domain.ledger import commission_entries
from chalicelib.domain.plans import plan_in_force
from chalicelib.services import partners, plans
from chalicelib.services.settlement.close import close_period
from chalicelib.store import dynamo, keys
from chalicelib.store.files import FolderFiles
from chalicelib.store.dynamo import Table
from chalicelib.store.ledger import SUBS as LEDGER_SUBS, LedgerRepo

from .bench_cost import usd_per_million
from .harness import Context, Meter
from .registry import Result, Target, benchmark

UTC = timezone.utc
PERIOD = "2026-08"
SETTLE_AT = datetime(2026, 9, 7, tzinfo=UTC)  # after August's lock (5 lock days)
ENTRIES_PER_PARTNER = 50


def _seed(ctx: Context, n: int, rng: random.Random) -> tuple[int, int]:
    """A tree of n/50 partners (each joins under a random earlier one, so depths vary up to ~10
    levels) and orders through it until exactly n commission entries exist in August."""
    repo = ctx.fresh_table(f"settle{n}")
    s = bootstrap.settings()
    start = datetime(2026, 8, 1, tzinfo=UTC)
    plans.publish(repo, levels_bps=[1000, 500, 200], cap_bps=2000, rank_overrides={}, holding_days=0,
                  effective_from=datetime(2026, 8, 1, tzinfo=UTC), created_by="bench", max_depth=s.max_depth,
                  now=start, min_payout_minor=5_000,
                  bonus=BonusRules(currency="USD", ladder=(Tier(500_000, flat_minor=5_000), Tier(2_000_000, rate_bps=100)),
                                   overachievement_bps=300, default_targets={"base": 1_000_000}))
    count = max(20, n // ENTRIES_PER_PARTNER)
    codes: list[str] = []
    for i in range(count):
        code = f"S{i:05d}"
        sponsor = codes[rng.randrange(max(0, len(codes) - 40), len(codes))] if codes else None
        partners.enrol(repo, name=f"Partner {i}", code=code, sponsor_code=sponsor, customer_hash=None,
                       fingerprint=code, max_depth=s.max_depth, now=start)
        codes.append(code)
    found = repo.partners.get_many(f"P-{c}" for c in codes)
    plan = plan_in_force(repo.plans.all(), start)
    chains = {pid: [n for n in partner_chain(repo, p, start)] for pid, p in found.items()}
    ledger = LedgerRepo(repo.table)
    cal = s.calendar
    written, orders, volume = 0, 0, defaultdict(int)
    batch: list[dict] = []
    client = repo.table.client
    while written < n:
        seller = found[f"P-{codes[rng.randrange(count)]}"]
        amount = rng.randrange(1_000, 200_000)
        at = start + timedelta(minutes=rng.randrange(30 * 24 * 60))
        orders += 1
        chain = chains[seller.partner_id]
        lines = compute_commissions(amount, chain[0], chain[1:], plan)
        order_id = f"b{orders:07d}"
        period = cal.landing_period(at, at)
        # The order's entries and its sale posting, written as the order path writes them.
        # `n` counts entries only: the sale posting beside them is written too, and not counted.
        entries = [ledger.new(e) for e in commission_entries(order_id, "USD", at, plan.version, plan.holding_days,
                                                             lines, cal, period)][:n - written]
        sale = ledger.sale(seller.partner_id, order_id, "O", at, period, "USD", amount, counts_order=True)
        for put in (*entries, sale):
            batch.append({"PutRequest": {"Item": dynamo.encode(dynamo.with_key(put.key, dict(put.attrs)))}})
            if len(batch) == 25:
                _write(client, repo.table.name, batch)
                batch = []
        written += len(entries)
    if batch:
        _write(client, repo.table.name, batch)
    return count, orders


def partner_chain(uow, partner, at):
    """The partner and its upline at `at`, as the order path walks it."""
    from chalicelib.services.partners import chain_for

    return chain_for(uow, partner, at, 1 << 30, bootstrap.settings().tree_rules).nodes


def _write(client, table: str, batch: list[dict]) -> None:
    request = {table: batch}
    while request:
        request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or None


class _CountingMeter(Meter):
    """Counts calls and consumed capacity without keeping every request (which would grow with n)."""

    def _params(self, params, model, **_):
        if self.on:
            self.ops[model.name] += 1
            params["ReturnConsumedCapacity"] = "TOTAL"


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _child(table: str, conn) -> None:
    """Settle in this forked process: fresh clients (none of the parent's connections), the real
    service, timed; report the figures and the peak RSS it added."""
    start_rss = _rss_mb()
    bootstrap.reset()
    client = bootstrap.dynamodb_client(bootstrap.settings())
    bootstrap.use_table(Table(client, table))
    meter = _CountingMeter(client)
    with tempfile.TemporaryDirectory() as folder:
        bootstrap.use_files(FolderFiles(folder))
        d = bootstrap.settlement(fan_out=False)
        began = time.perf_counter()
        with meter:
            batch = close_period(d, PERIOD, SETTLE_AT, "bench")
        seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    conn.send({"batch": batch, "seconds": seconds, "rss_growth_mb": round(peak - start_rss, 1),
               "read_units": meter.read_units, "write_units": meter.write_units, "calls": dict(meter.ops)})
    conn.close()


def _settle_in_child(table: str) -> dict:
    ctx_mp = multiprocessing.get_context("fork")
    parent, child = ctx_mp.Pipe()
    proc = ctx_mp.Process(target=_child, args=(table, child))
    proc.start()
    result = parent.recv()
    proc.join()
    return result


def _raw_query_rate(ctx: Context, table: str) -> tuple[int, float]:
    """The floor: every item settlement streams, read by a bare paginated Query, nothing decoded."""
    client = ctx.raw_client()
    items = 0
    began = time.perf_counter()
    for shard, sub in ((shard, sub) for shard in range(keys.SHARDS) for sub in range(LEDGER_SUBS)):
        kwargs = {"TableName": table, "IndexName": "GSI2", "KeyConditionExpression": "GSI2PK = :pk",
                  "ExpressionAttributeValues": {":pk": {"S": keys.settle_index(PERIOD, shard, sub)}}}
        while True:
            resp = client.query(**kwargs)
            items += len(resp["Items"])
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return items, time.perf_counter() - began


@benchmark("settlement_scaling", order=60)
def run(ctx: Context) -> Result:
    sizes = (1_000, 10_000) if ctx.quick else (1_000, 10_000, 100_000)
    rng = random.Random(7)
    figures: dict[str, dict] = {}
    for n in sizes:
        seed_began = time.perf_counter()
        partner_count, orders = _seed(ctx, n, rng)
        ctx.log(f"settlement: {n} entries over {partner_count} partners ({orders} orders) seeded in "
                f"{time.perf_counter() - seed_began:.1f}s")
        name = bootstrap.table().name
        raw_items, raw_s = _raw_query_rate(ctx, name)
        run = _settle_in_child(name)
        batch, seconds = run["batch"], run["seconds"]
        settled = batch["reconciliation"]["ledger"]["count"]["USD"]
        if batch["status"] != "draft" or settled < n:
            raise RuntimeError(f"settlement of {n} entries ended {batch['status']} with {settled} entries")
        figures[str(n)] = {
            "entries_settled": settled, "partners": partner_count, "payout_lines": batch["control"]["USD"]["lines"],
            "seconds": round(seconds, 2), "us_per_entry": round(seconds * 1e6 / settled, 1),
            "peak_rss_growth_mb": run["rss_growth_mb"],
            "entries_per_s": round(settled / seconds), "raw_query_items_per_s": round(raw_items / raw_s),
            "read_rate_ratio": round((settled / seconds) / (raw_items / raw_s), 3),
            "read_units_per_entry": round(run["read_units"] / settled, 3),
            "write_units_per_entry": round(run["write_units"] / settled, 3),
            "usd_per_million_settled_entries": usd_per_million(run["read_units"] / settled,
                                                               run["write_units"] / settled),
            "calls": run["calls"],
        }
        ctx.log(f"settlement: {n} -> {figures[str(n)]}")
    per_entry = [f["us_per_entry"] for f in figures.values()]
    peaks = [f["peak_rss_growth_mb"] for f in figures.values()]
    spread = round(max(per_entry) / min(per_entry), 2)
    growth = round(max(peaks) - min(peaks), 2)
    figures["us_per_entry_spread"] = spread
    figures["peak_mb_growth"] = growth
    figures["note"] = ("each settlement runs in a forked child with fresh clients: wall time untouched by "
                       "any tracer; memory is the child's peak RSS less its RSS when it started")
    return Result(figures, (Target("settlement_us_per_entry_spread", spread, 1.5),
                            Target("settlement_peak_mb_growth", growth, 16.0)))
