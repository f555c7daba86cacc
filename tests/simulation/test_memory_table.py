"""The benchmark's in-memory table (bench/emulation/memory.py) answers as moto does.

Seeded histories of the whole pipeline (the simulation of test_simulation.py: enrolments, moves,
clicks, orders, refunds, settlement, approvals, with faults) run with every DynamoDB call sent to
both moto and the in-memory table; moto's answer drives the history, and the in-memory table's
answer - result or error code and cancellation reasons - must be the same, call by call.

One known difference is moto's, not the in-memory table's: DynamoDB answers a transaction sent again
with the ClientRequestToken of one that committed as a success without writing anything ("Amazon
DynamoDB Transactions: How it works", Idempotency), which the store relies on after a lost reply
(chalicelib/store/dynamo.py); moto ignores the token and cancels the replay on its own conditions.
Such replays are counted, and allowed only for a token that had committed before."""
from __future__ import annotations

from collections import Counter
from typing import Any

from botocore.exceptions import ClientError

from bench.emulation.memory import MemoryDynamoDB
from chalicelib.store import dynamo, schema
from tests.simulation.conftest import fresh_table
from tests.simulation.fastmoto import fast_dynamodb_replies
from tests.simulation.sim import Simulation

SEEDS, STEPS = range(1, 5), 25
_CALLS = {"get_item", "batch_get_item", "query", "scan", "put_item", "update_item", "delete_item",
          "transact_write_items", "batch_write_item"}


class Tee:
    """Sends every call to `reference` and `candidate`, returns the reference's answer, and keeps
    every difference between the two."""

    def __init__(self, reference: Any, candidate: Any):
        self.reference, self.candidate = reference, candidate
        self.calls: Counter[str] = Counter()
        self.differences: list[str] = []
        self.committed_tokens: set[str] = set()
        self.token_replays = 0

    def __getattr__(self, name: str) -> Any:
        if name not in _CALLS:
            return getattr(self.reference, name)

        def call(**kwargs: Any) -> Any:
            self.calls[name] += 1
            ref, ref_error = _outcome(getattr(self.reference, name), kwargs)
            got, got_error = _outcome(getattr(self.candidate, name), kwargs)
            token = kwargs.get("ClientRequestToken")
            if name == "transact_write_items" and token in self.committed_tokens and got_error is None:
                self.token_replays += 1  # DynamoDB's idempotent replay: moto does not have it
            elif _error_shape(ref_error) != _error_shape(got_error):
                self.differences.append(f"{name}: moto {_error_shape(ref_error)}, memory "
                                        f"{_error_shape(got_error)}; request {kwargs}")
            elif ref_error is None and _normal(name, ref) != _normal(name, got):
                self.differences.append(f"{name}: moto {_normal(name, ref)}\n  memory {_normal(name, got)}\n"
                                        f"  request {kwargs}")
            if name == "transact_write_items" and ref_error is None and token:
                self.committed_tokens.add(token)
            if ref_error is not None:
                raise ref_error
            return ref
        return call


def _outcome(fn, kwargs: dict[str, Any]) -> tuple[Any, Exception | None]:
    try:
        return fn(**kwargs), None
    except ClientError as e:
        return None, e


def _error_shape(e: Exception | None) -> Any:
    if e is None:
        return None
    reasons = [r.get("Code") for r in e.response.get("CancellationReasons", [])]
    return type(e).__name__, e.response["Error"]["Code"], reasons


def _normal(name: str, resp: dict[str, Any]) -> Any:
    """What the app reads from a reply, decoded (so "1" and "1.0" agree, as they do for the app)."""
    out: dict[str, Any] = {}
    if "Item" in resp:
        out["Item"] = dynamo.decode(resp["Item"])
    if "Items" in resp:
        out["Items"] = [dynamo.decode(i) for i in resp["Items"]]
        if name == "scan":
            out["Items"].sort(key=lambda i: (i[schema.PK], i[schema.SK]))
    if "Responses" in resp:  # BatchGetItem answers in no particular order
        out["Responses"] = {t: sorted((dynamo.decode(i) for i in items), key=lambda i: (i[schema.PK], i[schema.SK]))
                            for t, items in resp["Responses"].items()}
    if "Count" in resp and name == "query":
        out["Count"] = resp["Count"]
    if name == "query" and "LastEvaluatedKey" in resp:
        out["more"] = True
    return out


def test_histories_get_the_same_answers_from_the_in_memory_table_as_from_moto(moto_session, http):
    memory = MemoryDynamoDB()
    tee = Tee(moto_session, memory)
    with fast_dynamodb_replies():
        for seed in SEEDS:
            with fresh_table(moto_session, f"tee-{seed}") as name:
                schema.create_table(memory, name)
                Simulation(seed, tee, name, http=http, steps=STEPS, fault_rate=0.08).run()
    assert not tee.differences, f"{len(tee.differences)} differences:\n" + "\n".join(tee.differences[:5])
    # The histories reached every kind of call the store makes, transactions most of all.
    assert {"get_item", "batch_get_item", "query", "put_item", "update_item", "transact_write_items"} <= set(tee.calls)
    assert tee.calls["transact_write_items"] > 50
