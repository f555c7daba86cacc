"""Issue 17 item 21: a warm process keeps its memory flat under a long mixed load.

One process serves 100,000 requests as a warm Lambda instance would: clicks on 50,000 distinct
links, orders (through a click, a link's code or nothing), partial refunds, and partners reading
their commissions, funnel and earnings. Each request goes through `app(event, context)`, the
function Lambda invokes, on DynamoDB Local. The figure is resident memory (VmRSS) at the end over
resident memory after the warm-up; it holds if within 10%.

Why DynamoDB Local and a fresh process: the database runs in its own JVM, so the process measured
holds only what a Lambda instance would (with moto the table itself would live in the process and
grow with every write); the serving process is started with `spawn`, not forked from the bench, so
nothing of the bench's own heap (seeding, other benchmarks) is in its resident set.

The quick run serves 4,000 requests over 3,000 links and gives the app a code cache of 500
instead of its 10,000, so that the cache fills and evicts within the short run as it does in the
full one (the same mechanism, a smaller bound; the report says which bound ran)."""
from __future__ import annotations

import gc
import multiprocessing
import os
import random
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from chalicelib import bootstrap
from chalicelib.domain.links import LINK, CodeRef
from chalicelib.store import dynamo

from .harness import Context, resident_mb
from .registry import Result, Target, benchmark

TARGET_RATIO = 1.10
LEVELS_BPS = [1000, 500, 200]  # the demo's plan: partners' ledgers stay the size real ones are
# Share of requests by kind, per 100 (a click-heavy day: most visits never become orders).
MIX = {"click": 70, "order": 12, "refund": 3, "commissions": 6, "funnel": 5, "earnings": 4}


@dataclass(frozen=True)
class Soak:
    requests: int
    warmup: int
    links: int
    partners: int
    code_cache_size: int | None  # None: the app's own bound (store.repository.CODE_CACHE_SIZE)
    samples: int = 20
    seed: int = 21


FULL = Soak(requests=100_000, warmup=10_000, links=50_000, partners=1_000, code_cache_size=None)
QUICK = Soak(requests=4_000, warmup=1_000, links=3_000, partners=100, code_cache_size=500)


def partner_code(i: int) -> str:
    return f"SK{i:05d}"


def link_code(i: int) -> str:
    """Eight hex digits, the shape the links service gives a new link."""
    return f"{0x10000000 + i:08X}"


# ---- seeding (in the bench process; not measured) ---------------------------------------------

class _CapturedWrites:
    """Stands in for store.dynamo.Table to capture the items Repository.create_link writes, so the
    links are seeded in the store's own item shape by BatchWriteItem (50,000 links through the API
    would take longer than the soak, and a limit on link creation would refuse them)."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def put_new(self, key, attrs) -> None:
        self.items.append(dynamo.encode(dynamo.with_key(key, attrs)))

    def put(self, key, attrs) -> None:
        self.put_new(key, attrs)

    def transact(self, ops) -> None:
        self.items += [op["Put"]["Item"] for op in ops if "Put" in op]


def _seed(ctx: Context, soak: Soak) -> str:
    from chalicelib.services import partners, plans
    from chalicelib.store.repository import Repository

    repo = ctx.fresh_table("soak")
    s = bootstrap.settings()
    now = bootstrap.now()
    plans.publish(repo, levels_bps=LEVELS_BPS, cap_bps=2000, rank_overrides={}, holding_days=30,
                  effective_from=datetime(2020, 1, 1, tzinfo=timezone.utc), created_by="bench",
                  max_depth=s.max_depth, now=now)
    rng = random.Random(soak.seed)
    began = time.perf_counter()
    for i in range(soak.partners):  # each joins under a random earlier partner: depths up to ~10
        sponsor = partner_code(rng.randrange(i)) if i else None
        partners.enrol(repo, name=f"Soak {i}", code=partner_code(i), sponsor_code=sponsor, customer_hash=None,
                       fingerprint=partner_code(i), max_depth=s.max_depth, now=now)
    ctx.log(f"soak: {soak.partners} partners enrolled in {time.perf_counter() - began:.0f}s")
    began = time.perf_counter()
    captured = _CapturedWrites()
    capture = Repository(captured)  # type: ignore[arg-type]
    for i in range(soak.links):
        capture.create_link(CodeRef(link_code(i), LINK, f"P-{partner_code(i % soak.partners)}",
                                    f"https://shop.example.com/p/{i}?utm_source=partner"), now)
    client, table = repo.table.client, repo.table.name

    def write(batch: list[dict]) -> None:
        request = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or None

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, (captured.items[i:i + 25] for i in range(0, len(captured.items), 25))))
    ctx.log(f"soak: {soak.links} links written in {time.perf_counter() - began:.0f}s")
    return table


# ---- the warm process (a spawned child) -------------------------------------------------------

def _serve(table: str, soak: Soak, conn) -> None:
    """Serve `soak.requests` mixed requests through app(event, context) and report resident memory."""
    # The app writes a JSON log line per request and its metrics to stdout, as to Lambda's log pipe.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.environ["UPLINE_TABLE"] = table
    from chalicelib.auth import mint_token
    from chalicelib.store.dynamo import Table
    from chalicelib.store.repository import Repository

    from .harness import Lambda, click_id_of

    bootstrap.reset()
    if soak.code_cache_size is not None:
        s = bootstrap.settings()
        bootstrap.use(Repository(Table(bootstrap.dynamodb_client(s), table), code_cache_size=soak.code_cache_size))
    app = Lambda()
    secret = bootstrap.settings().jwt_secret
    rng = random.Random(soak.seed)
    kinds, weights = list(MIX), list(MIX.values())
    # What the driver remembers is bounded too, so that it does not count as the app's growth.
    clicks: deque[str] = deque(maxlen=2_000)
    orders: list[tuple[str, int]] = []  # recent orders not yet refunded, at most 5,000
    statuses: Counter[str] = Counter()
    spent: Counter[str] = Counter()
    started_rss = resident_mb()
    samples: list[dict] = []
    every = max(1, (soak.requests - soak.warmup) // soak.samples)
    began = time.perf_counter()
    warm_at = None

    def read(path: str, partner_id: str) -> dict:
        token = mint_token(secret, "partner", f"user-{partner_id}", partner_id=partner_id)
        return app(app.event("GET", path, {"Authorization": f"Bearer {token}"}))

    for n in range(1, soak.requests + 1):
        kind = rng.choices(kinds, weights)[0]
        if kind == "refund" and not orders:
            kind = "order"
        t = time.perf_counter()
        if kind == "click":
            response = app(app.click_event(link_code(rng.randrange(soak.links)), visitor=True))
            if response["statusCode"] == 302:
                clicks.append(click_id_of(response))
        elif kind == "order":
            way = rng.random()
            click = rng.choice(clicks) if way < 0.5 and clicks else None
            code = link_code(rng.randrange(soak.links)) if 0.5 <= way < 0.8 else None
            amount = rng.randrange(500, 50_000)
            response = app(app.order_event(f"soak-{n:07d}", f"cust-{rng.randrange(20_000)}", amount,
                                           click_id=click, referral_code=code))
            if response["statusCode"] == 201:
                if len(orders) >= 5_000:
                    orders[rng.randrange(len(orders))] = orders.pop()
                orders.append((f"soak-{n:07d}", amount))
        elif kind == "refund":
            i = rng.randrange(len(orders))
            order_id, amount = orders[i]
            orders[i] = orders[-1]
            orders.pop()
            response = app(app.refund_event(order_id, f"r-{n:07d}", max(1, amount // rng.choice([1, 2, 4]))))
        else:
            partner_id = f"P-{partner_code(rng.randrange(soak.partners))}"
            response = read(f"/partners/{partner_id}/{kind}", partner_id)
        spent[kind] += time.perf_counter() - t
        statuses[f"{kind} {response['statusCode']}"] += 1
        if n == soak.warmup:
            warm_at = resident_mb()
            conn.send(("log", f"soak: warm after {n} requests, resident {warm_at:.1f} MB"))
        if n > soak.warmup and (n - soak.warmup) % every == 0:
            repo = bootstrap.repository()
            samples.append({"requests": n, "resident_mb": round(resident_mb(), 1), "code_cache": len(repo._codes),
                            "live_objects": len(gc.get_objects()), "seconds": round(time.perf_counter() - began)})
            conn.send(("log", f"soak: {samples[-1]}"))
    seconds = time.perf_counter() - began
    end_rss = resident_mb()
    conn.send(("done", {
        "resident_mb_before_first_request": round(started_rss, 1), "resident_mb_after_warmup": round(warm_at, 1),
        "resident_mb_end": round(end_rss, 1), "peak_resident_mb": round(resident_mb("VmHWM"), 1),
        "growth_ratio": round(end_rss / warm_at, 4),
        "max_sample_ratio": round(max(s["resident_mb"] for s in samples) / warm_at, 4),
        "seconds": round(seconds, 1), "requests_per_s": round(soak.requests / seconds, 1),
        "code_cache_bound": bootstrap.repository()._codes.maxsize, "samples": samples,
        "frozen_objects": gc.get_freeze_count(), "statuses": dict(sorted(statuses.items())),
        "ms_per_request": {k: round(1000 * spent[k] / sum(v for s, v in statuses.items() if s.split()[0] == k), 1)
                           for k in sorted(spent)},
    }))
    conn.close()


def _run_child(ctx: Context, table: str, soak: Soak) -> dict:
    mp = multiprocessing.get_context("spawn")
    parent, child = mp.Pipe()
    proc = mp.Process(target=_serve, args=(table, soak, child))
    proc.start()
    child.close()
    try:
        while True:
            what, payload = parent.recv()
            if what == "done":
                return payload
            ctx.log(payload)
    except EOFError:
        raise RuntimeError(f"the soak process died (exit code {proc.exitcode})") from None
    finally:
        proc.join()


def _check(statuses: dict[str, int]) -> None:
    """The soak measures a process doing its work: most requests of every kind must succeed, and
    none may fail on our side."""
    ok: Counter[str] = Counter()
    all_: Counter[str] = Counter()
    for key, count in statuses.items():
        kind, status = key.split()
        all_[kind] += count
        if int(status) >= 500:
            raise RuntimeError(f"the soak got {count} x {key}: {statuses}")
        if int(status) < 400:
            ok[kind] += count
    failing = {k: f"{ok[k]}/{n}" for k, n in all_.items() if ok[k] < 0.95 * n}
    if failing:
        raise RuntimeError(f"too many refusals in the soak, so it did not measure the work: {failing}; {statuses}")


@benchmark("soak", order=70)
def run(ctx: Context) -> Result:
    soak = QUICK if ctx.quick else FULL
    table = _seed(ctx, soak)
    figures = _run_child(ctx, table, soak)
    _check(figures["statuses"])
    figures["setup"] = {**asdict(soak), "mix_per_100": MIX, "database": "DynamoDB Local (own JVM)",
                        "entry_point": "app(event, context) in a spawned process"}
    return Result(figures, (Target("soak_resident_end_over_warm", figures["growth_ratio"], TARGET_RATIO),))
