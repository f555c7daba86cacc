"""Item 2: attribution throughput - orders per second through the real webhook, over raw
TransactWriteItems per second carrying the same items, interleaved on the same DynamoDB Local."""
from __future__ import annotations

import json
import secrets
from typing import Any

from chalicelib import bootstrap

from .harness import Context, Lambda, Meter, Side, click_id_of, interleave, new_link, seed_program
from .registry import Result, Target, benchmark

TARGET_RATIO = 0.80
DEPTH = 10
AMOUNT_MINOR = 123_457


def template_request(meter: Meter, op: str) -> dict[str, Any]:
    """The request the app sent for `op` during the metered call, minus the metering itself."""
    params = json.loads(json.dumps(meter.captured[op][0]))
    params.pop("ReturnConsumedCapacity", None)
    params.pop("ClientRequestToken", None)  # botocore fills a fresh one per call, for both sides alike
    return params


def variants(template: dict[str, Any], replace: dict[str, str], fresh: dict[str, Any]) -> Any:
    """`template` with each string in `replace` swapped for a fresh one of the same length, so the
    copies write new items of exactly the template's size."""
    text = json.dumps(template)

    def one() -> dict[str, Any]:
        out = text
        for old, kind in replace.items():
            new = fresh[kind]()
            assert len(new) == len(old), (old, new)
            out = out.replace(old, new)
        return json.loads(out)
    return one


class Orders:
    """Distinct orders for one depth-10 leaf, each with its own click and a new customer (so the
    transaction also writes the customer's binding: the full first-order shape)."""

    def __init__(self, app: Lambda, link_code: str, prefix: str):
        self.app = app
        self.link = link_code
        self.prefix = prefix
        self.n = 0

    def next_event(self) -> dict[str, Any]:
        """A click recorded by the redirect's own service (not timed), then the order naming it."""
        from chalicelib.services import links

        self.n += 1
        s = bootstrap.settings()
        _, click_id = links.follow(bootstrap.uow(), self.link, "ip-hash", "ua-hash", s.default_destination,
                                   bootstrap.now(), s.click_ttl)
        return self.app.order_event(f"{self.prefix}{self.n:09d}", f"cust-{self.prefix}{self.n:09d}",
                                    AMOUNT_MINOR, click_id=click_id)

    def prepare(self, n: int) -> list[dict[str, Any]]:
        return [self.next_event() for _ in range(n)]

    def one(self, event: dict[str, Any]) -> None:
        response = self.app(event)
        if response["statusCode"] != 201:
            raise RuntimeError(f"an order failed during the benchmark: {response}")


@benchmark("attribution_throughput", order=30)
def run(ctx: Context) -> Result:
    repo = ctx.fresh_table("attr")
    codes = seed_program(repo, DEPTH, prefix="AT")
    app = Lambda()
    link = new_link(repo, codes[-1])
    orders = Orders(app, link, "u")

    # One metered order gives the exact requests the app sends: the raw loops replay them with new ids.
    meter = Meter(repo.table.client)
    sample = orders.next_event()
    sample_body = json.loads(sample["body"])
    with meter:
        first = app(sample)
    assert first["statusCode"] == 201, first
    meter.on = False
    tx = template_request(meter, "TransactWriteItems")
    read = template_request(meter, "BatchGetItem")
    customer_hash = _binding_hash(tx)
    order_id = sample_body["order_id"]
    fresh = {"order": lambda: f"r{secrets.randbelow(10**9):09d}"[:len(order_id)],
             "hash": lambda: secrets.token_hex(len(customer_hash) // 2)}
    # The read names the new order and the new customer too, so it misses them as the app's read does.
    both = variants({"read": read, "tx": tx}, {order_id: "order", customer_hash: "hash"}, fresh)

    raw = ctx.raw_client()

    def raw_read_tx(req: dict[str, Any]) -> None:
        raw.batch_get_item(**req["read"])
        raw.transact_write_items(**req["tx"])

    sides = [
        Side("upline", orders.prepare, orders.one),
        Side("raw_tx", lambda n: [both()["tx"] for _ in range(n)], lambda req: raw.transact_write_items(**req)),
        # The floor the issue names: one read (the same keys the app reads) and the transaction.
        Side("raw_read_tx", lambda n: [both() for _ in range(n)], raw_read_tx),
        # A control: the raw transaction again. Its ratio to raw_tx is pure measurement noise.
        Side("raw_tx_again", lambda n: [both()["tx"] for _ in range(n)], lambda req: raw.transact_write_items(**req)),
    ]
    rounds, per_round, warmup = (24, 6, 40) if ctx.quick else (96, 12, 150)
    figures = interleave(sides, rounds, per_round, warmup)
    figures["control_raw_tx_vs_itself"] = round(sides[1].rate() / sides[3].rate(), 3)
    figures.update(depth=DEPTH, transact_items=len(tx["TransactItems"]),
                   transact_request_bytes=len(json.dumps(tx["TransactItems"])),
                   read_keys=len(next(iter(read["RequestItems"].values()))["Keys"]))
    return Result(figures, (Target("attribution_ratio_vs_raw_tx", figures["ratio_vs_raw_tx"], TARGET_RATIO,
                                   at_least=True),))


def _binding_hash(tx: dict[str, Any]) -> str:
    for op in tx["TransactItems"]:
        pk = op.get("Put", {}).get("Item", {}).get("PK", {}).get("S", "")
        if pk.startswith("CUSTOMER#"):
            return pk.removeprefix("CUSTOMER#")
    raise RuntimeError("the sample order wrote no binding: the benchmark's orders must be first orders")
