"""DynamoDB's concurrency, faithful to its conflicts and its throttling, in modelled time.

`ContendedClient` wraps the low-level client that chalicelib/store/dynamo.py's `Table` is given, so
the app runs unchanged on top of it. Inside a simulation process (clock.py) every call takes
modelled time, and:

- a TransactWriteItems holds each of its items (Put, Update, Delete and ConditionCheck alike) for a
  sampled duration (default 15 ms) and commits at its end. One that includes an item another
  in-flight transaction holds is cancelled: `TransactionCanceledException` with
  `CancellationReasons` `TransactionConflict` at that item and `None` elsewhere, as botocore raises
  it. A PutItem, UpdateItem or DeleteItem of a held item gets `TransactionConflictException`. A
  GetItem, BatchGetItem or Query is not blocked (DynamoDB: read-committed / serializable reads both
  succeed). Source: developer guide, "Transaction conflict handling in DynamoDB".
- every write is charged to the partition keys it touches, of the table and of each index
  (capacity.py), and a write that would take one partition key past `partition_wcu` (1,000 write
  units) within the last second of modelled time is throttled: `ProvisionedThroughputExceededException`
  with ThrottlingReasons `TableWriteKeyRangeThroughputExceeded` / `IndexWriteKeyRangeThroughputExceeded`
  for a plain write, and a cancelled transaction with `ThrottlingError` at the throttled item.
  Source: developer guide, "Key range throughput exceeded (hot partitions)" and "DynamoDB warm
  throughput" (a partition serves at most 1,000 write units a second). Split-for-heat is not
  modelled: it cannot split one item, and it takes minutes.
- botocore's own retries are modelled, in modelled time: the client's retry mode is "standard"
  (bootstrap.dynamodb_client), which retries throttling errors - not transaction cancellations nor
  TransactionConflictException - up to its total attempts, sleeping rand() * min(2 ** i, 20) s
  (botocore/retries/standard.py, ExponentialBackoff with throttling_base_scale 1). Its retry quota
  (500 tokens per client) is not modelled: each modelled request is its own Lambda invocation.

Outside a simulation process (setting up a program) calls pass straight through, free and uncounted.
Counters record attempts, conflicts, throttles, the items each kind of request includes in its
transactions, and the write units per partition key per second (peak over any 1 s window)."""
from __future__ import annotations

from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from chalicelib.store import schema

from .capacity import TABLE, Charge, item_size, read_units, write_charges
from .clock import Duration, Simulation
from .expressions import ValidationError, apply_update
from .memory import client_error

Key = tuple[str, str]


@dataclass(frozen=True)
class Model:
    """The modelled service: latencies, holds and limits. Defaults as stated in docs/performance.md."""
    hold: Duration = Duration(0.015, 0.3)    # a transaction holds its items this long, then commits
    reject: Duration = Duration(0.005, 0.3)  # the reply to a cancelled transaction or a refused write
    read: Duration = Duration(0.004, 0.3)    # GetItem, BatchGetItem, Query
    write: Duration = Duration(0.006, 0.3)   # PutItem, UpdateItem, DeleteItem
    partition_wcu: float = 1000.0            # per partition key, table or index, per second
    table_wcu: float | None = None           # on-demand per-table quota (40,000 by default); None: raised
    botocore_attempts: int = 6               # total attempts: the app's Config(max_attempts=5) + 1
    botocore_base: float = 1.0
    botocore_cap: float = 20.0


class _Window:
    """Units consumed in the last second of modelled time, and the most seen at once."""
    __slots__ = ("events", "total", "peak")

    def __init__(self) -> None:
        self.events: deque[tuple[float, float]] = deque()
        self.total = 0.0
        self.peak = 0.0

    def level(self, now: float) -> float:
        events = self.events
        while events and events[0][0] <= now - 1.0:
            self.total -= events.popleft()[1]
        return self.total

    def add(self, now: float, amount: float) -> None:
        self.level(now)
        self.events.append((now, amount))
        self.total += amount
        if self.total > self.peak:
            self.peak = self.total


@dataclass
class Counters:
    """What the emulation saw, by the tag of the process that made the call (order, refund, ...)."""
    transactions: Counter = field(default_factory=Counter)      # TransactWriteItems attempts
    committed: Counter = field(default_factory=Counter)
    conflicts: Counter = field(default_factory=Counter)         # cancelled: TransactionConflict
    throttled: Counter = field(default_factory=Counter)         # cancelled or refused: throttling
    condition_failed: Counter = field(default_factory=Counter)  # cancelled by a condition (at commit)
    plain_writes: Counter = field(default_factory=Counter)
    plain_conflicts: Counter = field(default_factory=Counter)   # TransactionConflictException
    botocore_retries: Counter = field(default_factory=Counter)
    reads: Counter = field(default_factory=Counter)
    write_units: Counter = field(default_factory=Counter)       # consumed, table and indexes
    read_units: Counter = field(default_factory=Counter)
    included: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # tag -> item -> n
    consumed: dict[tuple[str, str], _Window] = field(default_factory=dict)   # (index, key) -> window
    requested: dict[tuple[str, str], _Window] = field(default_factory=dict)  # incl. throttled attempts
    table: _Window = field(default_factory=_Window)
    table_requested: _Window = field(default_factory=_Window)


class ContendedClient:
    """The low-level DynamoDB client as DynamoDB's concurrency makes it behave (see module doc)."""

    def __init__(self, inner: Any, sim: Simulation, model: Model = Model(), seed: int = 1):
        import random

        self.inner = inner
        self.sim = sim
        self.model = model
        self.rng = random.Random(seed)
        self.counters = Counters()
        self._held: dict[tuple[str, Key], tuple[float, int]] = {}  # item -> (held until, holder id)
        self._ids = 0

    def __getattr__(self, name: str) -> Any:  # create_table, describe_table, exceptions, meta, ...
        return getattr(self.inner, name)

    # ---- helpers ---------------------------------------------------------------------------
    @property
    def _tag(self) -> str:
        proc = self.sim.current
        return proc.tag if proc is not None else ""

    def _active(self) -> bool:
        return self.sim.current is not None

    @staticmethod
    def _key(item_or_key: dict[str, Any]) -> Key:
        return item_or_key[schema.PK]["S"], item_or_key[schema.SK]["S"]

    def _held_by_other(self, table: str, key: Key, me: int) -> bool:
        hold = self._held.get((table, key))
        return hold is not None and hold[0] > self.sim.now and hold[1] != me

    def _before(self, table: str, key: Key) -> tuple[dict[str, Any] | None, int | None]:
        """The item as stored now, and its size when the table keeps it (the in-memory one does)."""
        wire = {schema.PK: {"S": key[0]}, schema.SK: {"S": key[1]}}
        peek = getattr(self.inner, "peek", None)
        if peek is not None:
            return peek(table, wire), self.inner.peek_size(table, wire)
        return self.inner.get_item(TableName=table, Key=wire, ConsistentRead=True).get("Item"), None

    def _charges(self, kind: str, body: dict[str, Any], transactional: bool) -> list[Charge]:
        table = body["TableName"]
        key = self._key(body["Item"] if kind == "Put" else body["Key"])
        before, before_size = self._before(table, key)
        if kind == "ConditionCheck":
            return write_charges(before, None, transactional=True, check_only=True, before_size=before_size)
        if kind == "Put":
            after = body["Item"]
        elif kind == "Delete":
            after = None
        else:
            base = dict(before) if before is not None else {schema.PK: {"S": key[0]}, schema.SK: {"S": key[1]}}
            try:
                after = apply_update(body["UpdateExpression"], base, (schema.PK, schema.SK),
                                     body.get("ExpressionAttributeNames"), body.get("ExpressionAttributeValues"))
            except ValidationError:
                after = before  # the table itself will refuse the request
        return write_charges(before, after, transactional=transactional, before_size=before_size)

    def _over_limit(self, charges: list[Charge]) -> list[Charge]:
        now, c, m = self.sim.now, self.counters, self.model
        need: dict[tuple[str, str], float] = defaultdict(float)
        for ch in charges:
            need[(ch.index, ch.key)] += ch.units
        over = [Charge(i, k, int(u)) for (i, k), u in need.items()
                if (c.consumed[(i, k)].level(now) if (i, k) in c.consumed else 0.0) + u > m.partition_wcu]
        if m.table_wcu is not None and c.table.level(now) + sum(need.values()) > m.table_wcu:
            over.append(Charge(TABLE, "*", int(sum(need.values()))))
        return over

    def _record(self, charges: list[Charge], consumed: bool) -> None:
        now, c = self.sim.now, self.counters
        total = 0
        for ch in charges:
            k = (ch.index, ch.key)
            (c.requested.get(k) or c.requested.setdefault(k, _Window())).add(now, ch.units)
            if consumed:
                (c.consumed.get(k) or c.consumed.setdefault(k, _Window())).add(now, ch.units)
            total += ch.units
        c.table_requested.add(now, total)
        if consumed:
            c.table.add(now, total)
            c.write_units[self._tag] += total

    def _sleep(self, d: Duration) -> None:
        self.sim.sleep(d.sample(self.rng))

    # ---- transactions ----------------------------------------------------------------------
    def transact_write_items(self, TransactItems: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        if not self._active():
            return self.inner.transact_write_items(TransactItems=TransactItems, **kwargs)
        c, tag = self.counters, self._tag
        self._ids += 1
        me = self._ids
        ops = [next(iter(op.items())) for op in TransactItems]
        keys = [(body["TableName"], self._key(body["Item"] if kind == "Put" else body["Key"])) for kind, body in ops]
        c.transactions[tag] += 1
        included = c.included[tag]
        for _, key in keys:
            included[key] += 1
        conflicted = [self._held_by_other(t, k, me) for t, k in keys]
        if any(conflicted):
            c.conflicts[tag] += 1
            self._sleep(self.model.reject)
            raise self._cancelled(["TransactionConflict" if x else "None" for x in conflicted],
                                  "Transaction is ongoing for the item")
        per_op = [self._charges(kind, body, True) for kind, body in ops]
        charges = [ch for chs in per_op for ch in chs]
        over = self._over_limit(charges)
        if over:
            c.throttled[tag] += 1
            self._record(charges, consumed=False)
            hot = {(ch.index, ch.key) for ch in over}
            quota = (TABLE, "*") in hot  # the table's own quota: every item is throttled
            self._sleep(self.model.reject)
            raise self._cancelled(
                ["ThrottlingError" if quota or any((ch.index, ch.key) in hot for ch in chs) else "None"
                 for chs in per_op],
                "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
                "scaling your table or index so please try again shortly. If exceptions persist, check if you "
                "have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
                "bp-partition-key-design.html.")
        self._record(charges, consumed=True)
        hold = self.model.hold.sample(self.rng)
        until = self.sim.now + hold
        for k in keys:
            self._held[k] = (until, me)
        try:
            self.sim.sleep(hold)
            result = self.inner.transact_write_items(TransactItems=TransactItems, **kwargs)
        except Exception as e:
            if getattr(e, "response", {}).get("Error", {}).get("Code") == "TransactionCanceledException":
                c.condition_failed[tag] += 1
            raise
        finally:
            for k in keys:
                if self._held.get(k, (0.0, 0))[1] == me:
                    del self._held[k]
        c.committed[tag] += 1
        return result

    def _cancelled(self, codes: list[str], message: str) -> Exception:
        reasons = [{"Code": "None"} if code == "None" else {"Code": code, "Message": message} for code in codes]
        return client_error("TransactionCanceledException", "Transaction cancelled, please refer cancellation "
                            f"reasons for specific reasons [{', '.join(codes)}]", "TransactWriteItems",
                            CancellationReasons=reasons)

    # ---- plain writes ----------------------------------------------------------------------
    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._plain("Put", "PutItem", "put_item", kwargs)

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._plain("Update", "UpdateItem", "update_item", kwargs)

    def delete_item(self, **kwargs: Any) -> dict[str, Any]:
        return self._plain("Delete", "DeleteItem", "delete_item", kwargs)

    def _plain(self, kind: str, operation: str, method: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        call = getattr(self.inner, method)
        if not self._active():
            return call(**kwargs)
        c, tag, m = self.counters, self._tag, self.model
        key = self._key(kwargs["Item"] if kind == "Put" else kwargs["Key"])
        for attempt in range(1, m.botocore_attempts + 1):
            c.plain_writes[tag] += 1
            if self._held_by_other(kwargs["TableName"], key, -1):
                c.plain_conflicts[tag] += 1
                self._sleep(m.reject)
                raise client_error("TransactionConflictException", "Transaction is ongoing for the item", operation)
            charges = self._charges(kind, kwargs, transactional=False)
            over = self._over_limit(charges)
            if not over:
                self._record(charges, consumed=True)
                result = call(**kwargs)
                self._sleep(m.write)
                return result
            c.throttled[tag] += 1
            self._record(charges, consumed=False)
            self._sleep(m.reject)
            if attempt == m.botocore_attempts:
                reason = "TableWriteKeyRangeThroughputExceeded" if over[0].index == TABLE else \
                    "IndexWriteKeyRangeThroughputExceeded"
                raise client_error("ProvisionedThroughputExceededException", "The level of configured provisioned "
                                   "throughput for the table was exceeded. Consider increasing your provisioning "
                                   "level with the UpdateTable API.", operation,
                                   ThrottlingReasons=[{"reason": reason, "resource": kwargs["TableName"]}])
            c.botocore_retries[tag] += 1
            self.sim.sleep(self.rng.random() * min(m.botocore_base * 2 ** (attempt - 1), m.botocore_cap))
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- reads -----------------------------------------------------------------------------
    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        if not self._active():
            return self.inner.get_item(**kwargs)
        self._sleep(self.model.read)
        out = self.inner.get_item(**kwargs)
        self._read(item_size(out.get("Item")), kwargs.get("ConsistentRead", False))
        return out

    def batch_get_item(self, **kwargs: Any) -> dict[str, Any]:
        if not self._active():
            return self.inner.batch_get_item(**kwargs)
        self._sleep(self.model.read)
        out = self.inner.batch_get_item(**kwargs)
        tag = self._tag
        for name, request in kwargs["RequestItems"].items():
            found = out.get("Responses", {}).get(name, [])
            consistent = request.get("ConsistentRead", False)
            # A key not found is charged the minimum, as GetItem is (an assumption: see performance.md).
            missing = len(request["Keys"]) - len(found)
            self.counters.read_units[tag] += sum(read_units(item_size(i), consistent) for i in found) \
                + missing * read_units(0, consistent)
        self.counters.reads[tag] += 1
        return out

    def query(self, **kwargs: Any) -> dict[str, Any]:
        if not self._active():
            return self.inner.query(**kwargs)
        self._sleep(self.model.read)
        out = self.inner.query(**kwargs)
        size = sum(item_size(i) for i in out.get("Items", []))
        self._read(size, kwargs.get("ConsistentRead", False))
        return out

    def _read(self, size: int, consistent: bool) -> None:
        tag = self._tag
        self.counters.reads[tag] += 1
        self.counters.read_units[tag] += read_units(size, consistent)

    # ---- what the counters say -------------------------------------------------------------
    def hottest(self, index: str | None = None, requested: bool = False) -> tuple[str, str, float] | None:
        """(index, partition key, peak write units in any 1 s window) of the busiest key, of one
        index ("table", "GSI1", ...) or of any."""
        windows = self.counters.requested if requested else self.counters.consumed
        best = None
        for (i, k), w in windows.items():
            if index is not None and i != index:
                continue
            if best is None or w.peak > best[2]:
                best = (i, k, w.peak)
        return best

