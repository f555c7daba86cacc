"""The contention benchmark's world and workloads: a 10,000-partner program in the in-memory table,
open-loop Poisson arrivals of orders, refunds, clicks and member sign-ups at a set rate, each one a
real `app(event, context)` call in modelled time on top of the contention emulation.

The harness knows nothing of how the app stores an order: it sends API Gateway events and reads
the emulation's counters, so a redesigned order path is measured by the same code unchanged."""
from __future__ import annotations

import hashlib
import json
import math
import pickle
import random
import secrets
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from chalicelib import bootstrap
from chalicelib.auth import mint_token
from chalicelib.domain.partners import Partner, partner_id_for
from chalicelib.domain.tree import child_upline
from chalicelib.security import sign
from chalicelib.store import schema
from chalicelib.store.dynamo import Retry, Table
from chalicelib.store.repository import Repository

from .emulation.clock import Simulation
from .emulation.contention import ContendedClient, Model
from .emulation.memory import MemoryDynamoDB
from .harness import PLAN_CAP_BPS, PLAN_EFFECTIVE_FROM, PLAN_LEVELS_BPS, Lambda

TABLE = "bench-contention"
MAX_DEPTH = 12          # the tree: one root, every partner at most 12 levels below it
KOL_DEPTH = 10          # the KOL has 10 ancestors above it
ZIPF_S = 1.1            # uniform workload: partner of rank r gets orders in proportion to 1 / r^1.1

# Per order: 5 clicks (a 20% click-to-order conversion, a flash sale's rate; ordinary affiliate
# traffic converts 2-5%, which would only add clicks), 1 refund in 20 (a 5% return rate), 1 member
# sign-up in 10 (30% of them with a friend's invite code), 1 order in 10 by a registered member.
CLICKS_PER_ORDER, REFUNDS_PER_ORDER, SIGNUPS_PER_ORDER = 5.0, 0.05, 0.10
INVITED_SHARE, MEMBER_ORDER_SHARE, REPEAT_CUSTOMER_SHARE = 0.30, 0.10, 0.30

MEMBER_PROGRAM = {"currency": "USD", "friend_reward": {"kind": "coupon", "amount": 1000},
                  "advocate_reward": {"kind": "points", "amount": 500}, "min_order_minor": 2000,
                  "holding_days": 14, "expiry_days": 60, "cap_per_month": 5, "cap_per_year": 20,
                  "point_value_minor": 2, "effective_from": "2020-01-01T00:00:00Z"}


# ---- the world: a program with a 10,000-partner tree, built once, restored for every run ------------

@dataclass
class World:
    memory: MemoryDynamoDB
    partners: list[Partner]           # in enrolment order; partners[0] is the root
    depth: dict[str, int]             # partner id -> ancestors above it
    kol: Partner
    kol_link: str
    snapshot: Any = None
    tree: dict[str, Any] = field(default_factory=dict)

    def restore(self) -> None:
        """The table as at the snapshot: the items (stored items are replaced on write, never changed
        in place, so a copy of the dict will do) and the sorted rows of every partition touched since."""
        t = self.memory.tables[TABLE]
        items, sort_keys, index_rows = self.snapshot
        t.items = dict(items)
        t.sizes = {}
        if not t.touched and t.sort_keys is not sort_keys:
            return
        if t.sort_keys is sort_keys:  # straight from the cache: the snapshot's own rows, copy them all
            t.sort_keys = {k: v.copy() for k, v in sort_keys.items()}
            t.index_rows = {name: {k: v.copy() for k, v in rows.items()} for name, rows in index_rows.items()}
        for index, pk in t.touched:
            rows, snap = (t.sort_keys, sort_keys) if index is None else (t.index_rows[index], index_rows[index])
            if pk in snap:
                rows[pk] = snap[pk].copy()
            else:
                rows.pop(pk, None)
        t.touched = set()

    def take_snapshot(self) -> None:
        t = self.memory.tables[TABLE]
        self.snapshot = (dict(t.items), {k: v.copy() for k, v in t.sort_keys.items()},
                         {name: {k: v.copy() for k, v in rows.items()} for name, rows in t.index_rows.items()})
        t.touched = set()


CACHE = Path(__file__).resolve().parent / "reports" / "cache"


def cached_world(partners: int = 10_000, seed: int = 7) -> World:
    """build_world's result, kept on disk per version of the code that shapes it (chalicelib/, this
    module, the emulation): building 10,000 partners takes 10-40 s on a loaded machine, loading ~2 s."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{partners}/{seed}".encode())
    for path in sorted([*root.joinpath("chalicelib").rglob("*.py"), Path(__file__),
                        *root.joinpath("bench", "emulation").glob("*.py")]):
        digest.update(path.read_bytes())
    cached = CACHE / f"world-{digest.hexdigest()[:16]}.pickle"
    if cached.exists():
        data = pickle.loads(cached.read_bytes())
        memory = MemoryDynamoDB()
        schema.create_table(memory, TABLE)
        world = World(memory, data["partners"], data["depth"], data["kol"], data["kol_link"], data["snapshot"],
                      data["tree"])
        table = memory.tables[TABLE]
        table.sort_keys = world.snapshot[1]  # restore() sees the snapshot's own rows and copies them
        world.restore()
        return world
    world = build_world(partners, seed)
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob("world-*.pickle"):
        old.unlink()
    cached.write_bytes(pickle.dumps({"partners": world.partners, "depth": world.depth, "kol": world.kol,
                                     "kol_link": world.kol_link, "snapshot": world.snapshot, "tree": world.tree}))
    return world


def build_world(partners: int = 10_000, seed: int = 7) -> World:
    """A program, a tree of `partners` by preferential attachment (a partner recruits in proportion
    to one plus the recruits it has: a few big recruiters, many with none), capped at MAX_DEPTH, and
    a KOL at depth 10 with a link. Written through the repository's own writes (enrol_partner), on
    the in-memory table directly: no request goes through the emulation."""
    from chalicelib.services import links, plans

    rng = random.Random(seed)
    memory = MemoryDynamoDB()
    schema.create_table(memory, TABLE)
    repo = Repository(Table(memory, TABLE))
    loader = Repository(Table(_BulkLoader(memory.tables[TABLE]), TABLE))
    s = bootstrap.settings()
    now = PLAN_EFFECTIVE_FROM
    plans.publish(repo, levels_bps=PLAN_LEVELS_BPS, cap_bps=PLAN_CAP_BPS, rank_overrides={}, holding_days=30,
                  effective_from=PLAN_EFFECTIVE_FROM, created_by="bench", max_depth=s.max_depth, now=now)
    made: list[Partner] = []
    depth: dict[str, int] = {}
    tickets: list[int] = []  # partner i appears 1 + (its recruits) times, unless it is at the depth cap
    for i in range(partners):
        code = f"K{i:05d}"
        sponsor = None
        if made:
            pick = tickets[rng.randrange(len(tickets))]
            sponsor = made[pick]
            tickets.append(pick)
        upline = child_upline(sponsor.node, sponsor.upline, s.max_depth) if sponsor else ()
        p = Partner(partner_id_for(code), code, code.title(), sponsor.partner_id if sponsor else None, upline,
                    created_at=now + timedelta(seconds=i))
        loader.enrol_partner(p, code, sponsor)
        d = depth[p.partner_id] = depth[sponsor.partner_id] + 1 if sponsor else 0
        made.append(p)
        if d < MAX_DEPTH:
            tickets.append(i)
    # The KOL: a partner 10 levels down (in a small test tree, the deepest there is).
    kol = max(made, key=lambda p: (depth[p.partner_id] == KOL_DEPTH, min(depth[p.partner_id], KOL_DEPTH)))
    kol_link = links.create_link(repo, kol.partner_id, "https://shop.example.com/sale", "KOLSALE",
                                 frozenset(s.allowed_domains), now, s.link_limits).code
    hist = Counter(depth.values())
    recruits = sorted(Counter(p.sponsor_id for p in made if p.sponsor_id).values(), reverse=True)
    world = World(memory, made, depth, kol, kol_link)
    world.tree = {"partners": partners, "max_depth": max(hist), "depth_histogram": dict(sorted(hist.items())),
                  "mean_depth": round(sum(d * n for d, n in hist.items()) / partners, 2),
                  "top_recruiter_recruits": recruits[0] if recruits else 0,
                  "kol_depth": depth[kol.partner_id],
                  "items": len(memory.tables[TABLE].items)}
    world.take_snapshot()
    return world


class _BulkLoader:
    """Takes the transactions the repository builds to enrol a partner and stores their items
    directly: the same items, without evaluating ten thousand conditions that hold by construction."""

    def __init__(self, table: Any):
        self.table = table

    def transact_write_items(self, TransactItems: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        for op in TransactItems:
            if "Put" in op:
                item = op["Put"]["Item"]
                self.table.store(self.table.item_key(item, "TransactWriteItems"), item)
            elif "ConditionCheck" not in op:
                raise ValueError(f"the bulk loader only stores new items, not {next(iter(op))}")
        return {}


# ---- one run: a workload at a rate, in modelled time ------------------------------------------------

@dataclass
class Run:
    workload: str
    rate: float
    measure_from: float
    measure_to: float
    arrivals_end: float
    client: ContendedClient
    sim: Simulation
    done: list[dict[str, Any]] = field(default_factory=list)


class Driver:
    """Builds each request's event at its modelled arrival and calls the app as Lambda does."""

    def __init__(self, world: World, sim: Simulation, lam: Lambda, rng: random.Random, workload: str):
        self.world, self.sim, self.lam, self.rng, self.workload = world, sim, lam, rng, workload
        self.secret = bootstrap.settings().webhook_secrets[0]
        self.orders_done: list[tuple[str, int]] = []   # (order id, amount) of created orders, to refund
        self.customers: list[str] = []                  # customers who ordered (repeat buyers)
        self.members: list[str] = []                    # registered members' customer ids
        self.invites: list[str] = []
        self.n = 0
        ranked = world.partners[:]
        rng.shuffle(ranked)  # popularity is independent of position in the tree
        self.ranked = ranked
        self.cum = list(accumulate(1 / (r + 1) ** ZIPF_S for r in range(len(ranked))))

    def _signed(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        raw = json.dumps(body).encode()
        ts = str(int(self.sim.datetime().timestamp()))
        return self.lam.event("POST", path, {"Content-Type": "application/json", "X-Upline-Timestamp": ts,
                                             "X-Upline-Signature": sign(self.secret, ts, raw),
                                             "User-Agent": "shop/1.0"}, raw)

    def _partner_code(self) -> str:
        if self.workload == "kol":
            return self.world.kol_link
        i = bisect_left(self.cum, self.rng.random() * self.cum[-1])
        return self.ranked[min(i, len(self.ranked) - 1)].code

    def order(self) -> dict[str, Any]:
        self.n += 1
        order_id = f"o{self.n:08d}{secrets.token_hex(3)}"
        amount = int(self.rng.lognormvariate(math.log(6000), 0.6)) + 500
        body: dict[str, Any] = {"order_id": order_id, "amount_minor": amount, "currency": "USD",
                                "ordered_at": self.sim.datetime().isoformat()}
        draw = self.rng.random()
        if self.workload != "kol" and self.customers and draw < REPEAT_CUSTOMER_SHARE:
            body["customer_id"] = self.rng.choice(self.customers)  # attributed by the binding
        else:
            if self.members and draw > 1 - MEMBER_ORDER_SHARE:
                body["customer_id"] = self.rng.choice(self.members)
            else:
                body["customer_id"] = f"c{self.n:08d}{secrets.token_hex(3)}"
            body["referral_code"] = self._partner_code()
        response = self.lam(self._signed("/webhooks/orders", body))
        if response["statusCode"] == 201:
            self.orders_done.append((order_id, amount))
            self.customers.append(body["customer_id"])
        return {"status": response["statusCode"], "code": _error_code(response)}

    def refund(self) -> dict[str, Any] | None:
        if not self.orders_done:
            return None
        order_id, amount = self.orders_done.pop(self.rng.randrange(len(self.orders_done)))
        response = self.lam(self._signed("/webhooks/refunds", {
            "order_id": order_id, "refund_id": "r1", "amount_minor": amount, "currency": "USD",
            "refunded_at": self.sim.datetime().isoformat()}))
        return {"status": response["statusCode"], "code": _error_code(response)}

    def click(self) -> dict[str, Any]:
        code = self._partner_code()
        event = self.lam.click_event(code, visitor=True)
        response = self.lam(event)
        return {"status": response["statusCode"], "code": _error_code(response)}

    def signup(self) -> dict[str, Any]:
        self.n += 1
        customer = f"m{self.n:08d}{secrets.token_hex(3)}"
        body: dict[str, Any] = {"customer_id": customer, "email": f"{customer}@example.com"}
        if self.invites and self.rng.random() < INVITED_SHARE:
            body["invite_code"] = self.rng.choice(self.invites)
        response = self.lam(self._signed("/webhooks/members", body))
        if response["statusCode"] == 201:
            self.members.append(customer)
            self.invites.append(json.loads(response["body"])["invite_code"])
        return {"status": response["statusCode"], "code": _error_code(response)}


def _error_code(response: dict[str, Any]) -> str | None:
    if response["statusCode"] < 400:
        return None
    try:
        return json.loads(response["body"])["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def run(world: World, workload: str, rate: float, *, measure_seconds: float, warmup: float = 0.2,
        cooldown: float = 0.5, model: Model = Model(), seed: int = 1) -> Run:
    """Orders arrive at `rate` a second (Poisson), with clicks, refunds and sign-ups in proportion,
    from 0 to warmup + measure + cooldown in modelled time; the figures are over the requests that
    arrive in [warmup, warmup + measure], and every request runs to its end."""
    world.restore()
    sim = Simulation(seed)
    client = ContendedClient(world.memory, sim, model, seed=seed + 1)
    repo = Repository(Table(client, TABLE, Retry(sleep=sim.sleep, rng=random.Random(seed + 2))))
    lam = Lambda()
    sim.slots = [(lam.app, "current_request"), (lam.app, "lambda_context")]
    rng = random.Random(seed + 3)
    driver = Driver(world, sim, lam, rng, workload)
    end = warmup + measure_seconds + cooldown
    result = Run(workload, rate, warmup, warmup + measure_seconds, end, client, sim)

    def arrivals(kind: str, per_second: float, fn) -> None:
        t = rng.expovariate(per_second)
        while t < end:
            def invocation(kind=kind, fn=fn, at=t):
                outcome = fn()
                if outcome is not None:
                    result.done.append({"kind": kind, "at": at, "latency": sim.now - at, **outcome})
            sim.start(invocation, at=t, tag=kind)
            t += rng.expovariate(per_second)

    arrivals("order", rate, driver.order)
    arrivals("click", rate * CLICKS_PER_ORDER, driver.click)
    arrivals("refund", rate * REFUNDS_PER_ORDER, driver.refund)
    arrivals("signup", rate * SIGNUPS_PER_ORDER, driver.signup)
    previous = bootstrap.now, bootstrap.repository()
    bootstrap.use(repo)
    bootstrap.now = sim.datetime
    try:
        sim.run()
    finally:
        bootstrap.now = previous[0]
        bootstrap.use(previous[1])
    return result


def publish_member_program(world: World, lam: Lambda) -> None:
    """The member reward program, through the admin API (outside modelled time)."""
    repo = Repository(Table(world.memory, TABLE))
    previous = bootstrap.repository()
    bootstrap.use(repo)
    try:
        token = mint_token(bootstrap.settings().jwt_secret, "admin", "bench")
        event = lam.event("POST", "/admin/reward-programs", {"Authorization": f"Bearer {token}",
                                                             "Content-Type": "application/json"},
                          json.dumps(MEMBER_PROGRAM).encode())
        response = lam(event)
        if response["statusCode"] != 201:
            raise RuntimeError(f"publishing the member program failed: {response}")
    finally:
        bootstrap.use(previous)
    world.take_snapshot()


# ---- what a run shows -------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def summarize(r: Run) -> dict[str, Any]:
    c = r.client.counters
    measured = [d for d in r.done if r.measure_from <= d["at"] < r.measure_to]
    orders = [d for d in measured if d["kind"] == "order"]
    ok = [d for d in orders if d["status"] in (200, 201)]
    latencies = [d["latency"] for d in orders]
    tx_all = sum(c.transactions.values())
    order_tx = c.transactions["order"]
    hot_item, hot_n = (c.included["order"].most_common(1) or [((None, None), 0)])[0]
    span = r.sim.now if r.sim.now > 0 else 1.0
    figures: dict[str, Any] = {
        "workload": r.workload, "orders_per_s": r.rate,
        "measured_orders": len(orders),
        "modelled_seconds": round(span, 3),
        "conflict_share": _share(sum(c.conflicts.values()), tx_all),
        "order_conflict_share": _share(c.conflicts["order"], order_tx),
        "failed_order_share": _share(len(orders) - len(ok), len(orders)),
        "order_failures": dict(Counter(str(d["code"] or d["status"]) for d in orders if d not in ok)),
        "p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "hot_item": "|".join(hot_item) if hot_item[0] else None,
        "hot_share": _share(hot_n, order_tx),
        "throttled_share": _share(sum(c.throttled.values()),
                                  tx_all + sum(c.plain_writes.values())),
        "transactions_per_order": round(order_tx / max(1, sum(1 for d in r.done if d["kind"] == "order")), 2),
    }
    # Units in the busiest 1 s window, per second; a run whose arrivals last less than a second is
    # read over its arrival span instead (a quick run at 1,000 or 3,000 orders/s).
    per_s = 1.0 / min(1.0, r.arrivals_end)
    figures["rate_window_s"] = round(min(1.0, r.arrivals_end), 3)
    for index in ("table", *schema.INDEX_KEYS):
        hot = r.client.hottest(index)
        wanted = r.client.hottest(index, requested=True)
        figures[f"hottest_key_{index}"] = hot[1] if hot else None
        figures[f"hottest_key_wcu_per_s_{index}"] = round(hot[2] * per_s, 1) if hot else 0.0
        figures[f"hottest_key_requested_wcu_per_s_{index}"] = round(wanted[2] * per_s, 1) if wanted else 0.0
    figures["table_wcu_per_s_peak"] = round(c.table.peak * per_s, 1)
    figures["table_requested_wcu_per_s_peak"] = round(c.table_requested.peak * per_s, 1)
    created = sum(1 for d in r.done if d["kind"] == "order" and d["status"] == 201)
    figures["write_units_per_order"] = round(c.write_units["order"] / max(1, created), 1)
    figures["read_units_per_order"] = round(c.read_units["order"] / max(1, created), 1)
    others = [d for d in measured if d["kind"] != "order"]
    figures["other_failed"] = dict(Counter(f"{d['kind']}:{d['code'] or d['status']}" for d in others
                                           if d["status"] >= 400))
    figures["requests"] = dict(Counter(d["kind"] for d in r.done))
    return figures


def _share(n: float, total: float) -> float:
    return round(n / total, 4) if total else 0.0


def units_by_depth(world: World, depths: tuple[int, ...] = (1, 5, 10), seed: int = 11) -> dict[str, Any]:
    """Write and read units of one order by a new customer at each depth, alone (no contention)."""
    out: dict[str, Any] = {}
    lam = Lambda()
    for depth in depths:
        partner = next(p for p in world.partners if world.depth[p.partner_id] == depth)
        world.restore()
        sim = Simulation(seed)
        client = ContendedClient(world.memory, sim, Model(), seed=seed)
        repo = Repository(Table(client, TABLE, Retry(sleep=sim.sleep)))
        sim.slots = [(lam.app, "current_request")]
        driver = Driver(world, sim, lam, random.Random(seed), "uniform")
        driver._partner_code = lambda p=partner: p.code  # type: ignore[method-assign]
        previous = bootstrap.now, bootstrap.repository()
        bootstrap.use(repo)
        bootstrap.now = sim.datetime
        try:
            outcome: dict[str, Any] = {}
            sim.start(lambda: outcome.update(driver.order()), tag="order")
            sim.run()
        finally:
            bootstrap.now = previous[0]
            bootstrap.use(previous[1])
        if outcome.get("status") != 201:
            raise RuntimeError(f"the depth-{depth} order failed: {outcome}")
        c = client.counters
        out[f"depth{depth}"] = {"write_units": c.write_units["order"], "read_units": c.read_units["order"],
                                "transaction_items": len(c.included["order"])}
    return out
