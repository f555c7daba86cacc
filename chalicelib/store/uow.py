"""The unit of work: one per request or job. It hands out the repositories, collects their typed
writes, and commits them as one transaction, with the idempotency claim made explicit.

    with bootstrap.uow() as uow:
        ctx = uow.orders.context(...)                 # reads go straight to the table
        uow.claim(uow.orders.new(order))              # exists already -> AlreadyExists
        uow.add(*uow.ledger.new_entries(entries))
        uow.commit()                                  # one TransactWriteItems, or nothing

A claim is a create whose existence means "this was done": if its condition fails, a retry or a
concurrent duplicate got there first (AlreadyExists, which services answer by replaying the
recorded result). Any other failed condition, or a conflicting transaction, is ConcurrentUpdate:
something the decision depended on moved; read again and decide again. Services never see botocore,
keys or expressions. Leaving the `with` block without committing discards what was collected.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from ..domain.errors import AlreadyExists, ConcurrentUpdate, Conflict
from . import ops
from .dynamo import DEADLINE
from .repositories import Repositories

# What a unit of work collects, and what it writes alone (the types services name, without importing
# store/ops.py).
TransactOp = ops.TransactOp
Write = ops.Write


class Backend(Protocol):
    """What a table backend offers: store/dynamo.Table and store/memory.MemoryTable."""

    name: str

    def get(self, key: ops.Key, consistent: bool = True, attrs: tuple[str, ...] = ()) -> dict[str, Any] | None: ...

    def write(self, op: ops.Write) -> bool: ...

    def commit(self, operations: list[ops.TransactOp], token: str | None = None) -> None: ...


class UnitOfWork:
    def __init__(self, repos: Repositories):
        # The process's repositories (they hold its caches), handed out by name.
        self.table = repos.table
        self.accounts = repos.accounts
        self.links = repos.links
        self.partners = repos.partners
        self.orders = repos.orders
        self.ledger = repos.ledger
        self.plans = repos.plans
        self.review = repos.review
        self.settlement = repos.settlement
        self.stats = repos.stats
        self.leaderboards = repos.leaderboards
        self.members = repos.members
        self.shops = repos.shops
        self.coupons = repos.coupons
        self.webhooks = repos.webhooks
        self.analytics = repos.analytics
        self._ops: list[ops.TransactOp] = []
        self._claim: int | None = None

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.discard()

    # ---- collecting ---------------------------------------------------------------------------
    def claim(self, create: ops.Put) -> None:
        """The write whose existence means the whole unit was done (an order, a refund, an
        enrolment...). It must be a create; there is at most one per unit."""
        if create.when != ops.ITEM_ABSENT:
            raise ValueError("a claim is a create (put_new)")
        if self._claim is not None:
            raise ValueError("a unit of work has one claim")
        self._claim = len(self._ops)
        self._ops.append(create)

    def add(self, *writes: ops.TransactOp) -> None:
        self._ops.extend(writes)

    @property
    def pending(self) -> int:
        return len(self._ops)

    def discard(self) -> None:
        self._ops, self._claim = [], None

    # ---- committing ---------------------------------------------------------------------------
    def commit(self) -> None:
        """Everything collected, all or nothing. Raises AlreadyExists when the claim was already
        made, ConcurrentUpdate when any other condition failed or a transaction was in the way."""
        staged, self._ops, claim = self._ops, [], self._claim
        self._claim = None
        if not staged:
            return
        try:
            self.table.commit(staged)
        except ops.TooLarge as e:
            # More than one transaction holds: a domain error, so a job can skip this unit and go on.
            raise Conflict(f"too many changes for one transaction: {e}", code="transaction_too_large") from None
        except ops.Cancelled as c:
            if claim is not None and claim in c.failed:
                raise AlreadyExists("already done") from None
            raise ConcurrentUpdate(f"transaction cancelled: {list(c.reasons) or list(c.failed)}") from None

    def write(self, op: ops.Write) -> bool:
        """One write on its own, now (outside the transaction). False when its condition failed."""
        return self.table.write(op)


@contextmanager
def write_deadline(at: float) -> Iterator[None]:
    """No write inside this block may be sent after `at` (time.monotonic()): the request's own
    deadline, past which a write fails as TooSlow rather than land after the effectivity fence."""
    token = DEADLINE.set(at)
    try:
        yield
    finally:
        DEADLINE.reset(token)
