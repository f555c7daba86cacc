"""What the benchmarks share: DynamoDB Local, fresh tables, a seeded program, Lambda events for the
real app, interleaved timing rounds, and botocore hooks that count calls and consumed capacity."""
from __future__ import annotations

import itertools
import os
import secrets
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from chalicelib import bootstrap
from chalicelib.security import sign
from chalicelib.store.dynamo import Table
from chalicelib.store.repository import Repository
from chalicelib.store.schema import create_table

# The demo plan shape at full depth: 10 paid levels, and a cap that binds, so every order runs the
# largest-remainder allocation too (the most work an order can ask of the domain).
PLAN_LEVELS_BPS = [1000, 500, 300, 200, 200, 100, 100, 100, 100, 100]
PLAN_CAP_BPS = 2500
PLAN_EFFECTIVE_FROM = datetime(2020, 1, 1, tzinfo=timezone.utc)


def bench_env() -> dict[str, str]:
    """Fresh secrets for this run; logging and metrics as deployed (INFO logs, EMF metrics on)."""
    return {
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1", "UPLINE_TABLE": "upline-bench",
        "UPLINE_WEBHOOK_SECRETS": secrets.token_hex(16), "UPLINE_JWT_SECRET": secrets.token_hex(24),
        "UPLINE_HASH_PEPPER": secrets.token_hex(16), "UPLINE_ALLOWED_DOMAINS": "shop.example.com",
        "POWERTOOLS_SERVICE_NAME": "upline", "POWERTOOLS_METRICS_NAMESPACE": "Upline",
    }


@dataclass
class Context:
    """Handed to every benchmark that needs the database."""
    quick: bool
    endpoint: str
    log: Callable[[str], None]
    _tables: int = 0

    def upline_client(self):
        """The client the app itself builds (same botocore config as in Lambda)."""
        return bootstrap.dynamodb_client(bootstrap.settings())

    def raw_client(self):
        """A second, separate boto3 client for the floor, with the same botocore config as the app's
        (retry mode and timeouts change a call's cost a little: like is compared with like). It
        runs none of Upline's code: the raw loops call it directly with prebuilt requests."""
        return bootstrap.dynamodb_client(bootstrap.settings())

    def fresh_table(self, label: str) -> Repository:
        """A new empty table, wired into the app's composition root (as the tests' `wire` does)."""
        self._tables += 1
        name = f"bench-{label}-{self._tables}"
        os.environ["UPLINE_TABLE"] = name
        bootstrap.reset()
        client = self.upline_client()
        create_table(client, name)
        repo = Repository(Table(client, name))
        bootstrap.use(repo)
        return repo


# ---- a program to order against -------------------------------------------------------------

def seed_program(repo: Repository, depth: int, prefix: str = "B") -> list[str]:
    """Publish the bench plan (once per table) and enrol a chain of depth+1 partners through the
    services (top first). Returns their codes; the last one is the leaf that earns level 1."""
    from chalicelib.services import partners, plans

    s = bootstrap.settings()
    now = bootstrap.now()
    if not repo.plans():
        plans.publish(repo, levels_bps=PLAN_LEVELS_BPS, cap_bps=PLAN_CAP_BPS, rank_overrides={},
                      holding_days=30, effective_from=PLAN_EFFECTIVE_FROM, created_by="bench",
                      max_depth=s.max_depth, now=now)
    codes = [f"{prefix}{depth:02d}L{i:02d}" for i in range(depth + 1)]
    sponsor = None
    for code in codes:
        partners.enrol(repo, name=code.title(), code=code, sponsor_code=sponsor, customer_hash=None,
                       fingerprint=code, max_depth=s.max_depth, now=now)
        sponsor = code
    return codes


def new_link(repo: Repository, partner_code: str) -> str:
    from chalicelib.services import links

    ref = links.create_link(repo, f"P-{partner_code}", "https://shop.example.com/bags", None,
                            frozenset(bootstrap.settings().allowed_domains), bootstrap.now(),
                            bootstrap.settings().link_limits)
    return ref.code


# ---- the real app, called as Lambda calls it ------------------------------------------------

class Lambda:
    """Builds API Gateway proxy events with Chalice's own converter and calls `app(event, context)`,
    the entry point Lambda invokes: routing, middleware, the view, error mapping, all of it."""

    def __init__(self):
        from chalice.local import LambdaContext, LambdaEventConverter, RouteMatcher

        from app import app

        self.app = app
        self._converter = LambdaEventConverter(RouteMatcher(list(app.routes)), app.api.binary_types)
        self._context_type = LambdaContext

    def event(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> dict:
        event = self._converter.create_lambda_event(method, path, headers, body)
        event["requestContext"]["requestId"] = secrets.token_hex(8)
        return event

    def __call__(self, event: dict) -> dict:
        return self.app(event, self._context_type("upline", 256))

    def order_event(self, order_id: str, customer_id: str, amount_minor: int, click_id: str | None = None,
                    referral_code: str | None = None) -> dict:
        body = {"order_id": order_id, "customer_id": customer_id, "amount_minor": amount_minor,
                "currency": "USD", "ordered_at": datetime.now(timezone.utc).isoformat()}
        if click_id:
            body["click_id"] = click_id
        if referral_code:
            body["referral_code"] = referral_code
        return self.webhook_event("/webhooks/orders", body)

    def refund_event(self, order_id: str, refund_id: str, amount_minor: int) -> dict:
        return self.webhook_event("/webhooks/refunds", {
            "order_id": order_id, "refund_id": refund_id, "amount_minor": amount_minor, "currency": "USD",
            "refunded_at": datetime.now(timezone.utc).isoformat()})

    def webhook_event(self, path: str, body: dict) -> dict:
        """What the shop sends: a JSON body signed with HMAC over "timestamp.body"."""
        import json

        raw = json.dumps(body).encode()
        ts = str(int(time.time()))
        secret = bootstrap.settings().webhook_secrets[0]
        return self.event("POST", path, {
            "Content-Type": "application/json", "X-Upline-Timestamp": ts,
            "X-Upline-Signature": sign(secret, ts, raw), "User-Agent": "shop/1.0"}, raw)

    def click_event(self, code: str, visitor: bool = False) -> dict:
        """A click; with `visitor`, from an address of its own (a documentation range: the address
        is only data in the event, nothing is sent to it)."""
        event = self.event("GET", f"/r/{code}", {
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0",
            "Accept": "text/html"})
        if visitor:
            n = secrets.randbelow(2**16)
            event["requestContext"].setdefault("identity", {})["sourceIp"] = f"198.18.{n >> 8}.{n & 255}"
        return event


def resident_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (VmRSS), or its peak so far (VmHWM), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def click_id_of(response: dict) -> str:
    return response["headers"]["Location"].split("upline_click=")[1]


# ---- counting calls and capacity ------------------------------------------------------------

READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
_CAPACITY_OPS = READS | WRITES


class Meter:
    """Counts DynamoDB calls on a client and, while on, asks every call for its consumed capacity
    (ReturnConsumedCapacity=TOTAL, added by a botocore hook so the app's code is untouched)."""

    def __init__(self, client: Any):
        self.ops: Counter[str] = Counter()
        self.read_units = 0.0
        self.write_units = 0.0
        self.captured: dict[str, list[dict[str, Any]]] = {}
        self.on = False
        events = client.meta.events
        events.register("provide-client-params.dynamodb.*", self._params)
        events.register("after-call.dynamodb.*", self._after)

    def reset(self) -> None:
        self.ops.clear()
        self.read_units = self.write_units = 0.0
        self.captured.clear()

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if not self.on:
            return
        self.ops[model.name] += 1
        self.captured.setdefault(model.name, []).append(params)
        if model.name in _CAPACITY_OPS:
            params["ReturnConsumedCapacity"] = "TOTAL"

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if not self.on:
            return
        consumed = parsed.get("ConsumedCapacity")
        units = sum(c.get("CapacityUnits", 0.0) for c in (consumed if isinstance(consumed, list) else
                                                          [consumed] if consumed else []))
        if model.name in READS:
            self.read_units += units
        else:
            self.write_units += units

    @property
    def reads(self) -> int:
        return sum(v for k, v in self.ops.items() if k in READS)

    @property
    def writes(self) -> int:
        return sum(v for k, v in self.ops.items() if k in WRITES)

    def __enter__(self) -> "Meter":
        self.reset()
        self.on = True
        return self

    def __exit__(self, *exc: Any) -> None:
        self.on = False


# ---- interleaved timing ---------------------------------------------------------------------

@dataclass
class Side:
    """One contender: `prepare(n)` builds n operations' inputs (not timed), `one(input)` performs
    one operation (timed) and raises if it did not succeed."""
    name: str
    prepare: Callable[[int], list[Any]]
    one: Callable[[Any], Any]
    ops: int = 0
    seconds: float = 0.0

    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0


def interleave(sides: list[Side], rounds: int, per_round: int, warmup: int) -> dict[str, Any]:
    """Time the sides one operation each in turn (a, b, c, a, b, c, ...), so a burst of load from
    elsewhere on the machine hits every side alike. The order changes every round through every
    permutation, so no side always runs right after the same other side (rotating alone would keep
    b always after a; a raw loop measured against itself showed that costs a side ~8%). Inputs are
    built before each round and not timed. Ratios are the first side's total rate over each
    other's; the per-round ratios show the noise."""
    clock = time.perf_counter
    orders = list(itertools.permutations(sides))
    for side in sides:
        for item in side.prepare(warmup):
            side.one(item)
    ours, others = sides[0], sides[1:]
    round_ratios: dict[str, list[float]] = {o.name: [] for o in others}
    for r in range(rounds):
        order = orders[r % len(orders)]
        inputs = {side.name: side.prepare(per_round) for side in order}
        spent = {side.name: 0.0 for side in order}
        for i in range(per_round):
            for side in order:
                item = inputs[side.name][i]
                start = clock()
                side.one(item)
                spent[side.name] += clock() - start
        for side in order:
            side.ops += per_round
            side.seconds += spent[side.name]
        for o in others:
            round_ratios[o.name].append(spent[o.name] / spent[ours.name])
    out: dict[str, Any] = {"rounds": rounds, "ops_per_round": per_round, "warmup_ops": warmup}
    for side in sides:
        out[f"{side.name}_per_s"] = round(side.rate(), 1)
        out[f"{side.name}_ms_per_op"] = round(1000 * side.seconds / side.ops, 2)
    for o in others:
        rr = round_ratios[o.name]
        out[f"ratio_vs_{o.name}"] = round(ours.rate() / o.rate(), 3)
        out[f"ratio_vs_{o.name}_rounds"] = {"min": round(min(rr), 3), "median": round(statistics.median(rr), 3),
                                             "max": round(max(rr), 3)}
    return out
