"""Faults at the database edge, decided by a seeded random stream: a DynamoDB client proxy that makes
a call fail before it is sent, lose the reply of a call that succeeded, throttle, or cancel a
transaction as a conflict. Neither moto nor DynamoDB Local produces these by themselves."""
from __future__ import annotations

import random
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

BEFORE_SEND, REPLY_LOST, THROTTLE, TXN_CONFLICT = "before_send", "reply_lost", "throttle", "txn_conflict"
KINDS = (BEFORE_SEND, REPLY_LOST, THROTTLE, TXN_CONFLICT)
WRITES = {"put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"}
CALLS = WRITES | {"get_item", "batch_get_item", "query", "scan"}


class Crash(Exception):
    """The process died right after a write reached the database."""


def _client_error(code: str, op: str, status: int = 400, **extra: Any) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"injected {code}"},
                        "ResponseMetadata": {"HTTPStatusCode": status}, **extra}, op)


class FaultyClient:
    """Wraps a low-level DynamoDB client. Each call draws from `rng`: with probability `rate` it
    fails in one of the four ways (a transaction conflict only for TransactWriteItems). `crash_after`
    raises Crash right after that many successful writes (a process dying mid-run)."""

    def __init__(self, client: Any, rng: random.Random, rate: float = 0.0, crash_after: int | None = None):
        self._client = client
        self.rng = rng
        self.rate = rate
        self.crash_after = crash_after
        self.writes = 0
        self.injected: Counter[str] = Counter()
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in CALLS:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            fault = self._draw(name)
            if fault == BEFORE_SEND:
                if self.rng.random() < 0.5:
                    raise EndpointConnectionError(endpoint_url="http://dynamodb.injected")
                raise _client_error("InternalServerError", name, 500)
            if fault == THROTTLE:
                raise _client_error("ProvisionedThroughputExceededException", name)
            if fault == TXN_CONFLICT:
                n = len(kwargs.get("TransactItems", [])) or 1
                reasons = [{"Code": "None"} for _ in range(n)]
                reasons[self.rng.randrange(n)] = {"Code": "TransactionConflict",
                                                  "Message": "Transaction is ongoing for the item"}
                raise _client_error("TransactionCanceledException", name, CancellationReasons=reasons)
            result = attr(*args, **kwargs)
            if name in WRITES:
                self.writes += 1
                if self.crash_after is not None and self.writes >= self.crash_after:
                    self.crash_after = None
                    raise Crash(f"after write {self.writes}")
            if fault == REPLY_LOST:
                raise ReadTimeoutError(endpoint_url="http://dynamodb.injected")
            return result
        return call

    def _draw(self, name: str) -> str | None:
        if self.rate <= 0 or self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(KINDS if name == "transact_write_items" else KINDS[:3])
        self.injected[kind] += 1
        return kind
