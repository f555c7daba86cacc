"""The contention emulation (bench/emulation) behaves as DynamoDB's documentation says: overlapping
transactions conflict (ConditionChecks too), disjoint or successive ones commit, hot partition keys
throttle, and modelled time runs events in order. No AWS: the in-memory table underneath."""
from __future__ import annotations

import random

import pytest
from botocore.exceptions import ClientError

from bench.emulation.capacity import KB, write_charges
from bench.emulation.clock import Duration, Simulation
from bench.emulation.contention import ContendedClient, Model
from bench.emulation.memory import MemoryDynamoDB
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.store import schema
from chalicelib.store.dynamo import Op, Retry, Table

TABLE = "emulated"
FIXED = Model(hold=Duration(0.015, 0), reject=Duration(0.002, 0), read=Duration(0.004, 0),
              write=Duration(0.006, 0))


def emulated(model: Model = FIXED) -> tuple[Simulation, ContendedClient]:
    sim = Simulation(seed=1)
    memory = MemoryDynamoDB()
    schema.create_table(memory, TABLE)
    return sim, ContendedClient(memory, sim, model)


def key(pk: str, sk: str = "X") -> dict:
    return {schema.PK: {"S": pk}, schema.SK: {"S": sk}}


def put(pk: str, sk: str = "X", **attrs) -> dict:
    return {"Put": {"TableName": TABLE, "Item": {**key(pk, sk), **{k: {"S": v} for k, v in attrs.items()}}}}


def check(pk: str, sk: str = "X") -> dict:
    return {"ConditionCheck": {"TableName": TABLE, "Key": key(pk, sk), "ConditionExpression": "attribute_not_exists(z)"}}


def update(pk: str, sk: str = "X") -> dict:
    return {"Update": {"TableName": TABLE, "Key": key(pk, sk), "UpdateExpression": "ADD n :one",
                       "ExpressionAttributeValues": {":one": {"N": "1"}}}}


def attempt(client: ContendedClient, items: list[dict], outcomes: dict, name: str):
    def run():
        try:
            client.transact_write_items(TransactItems=items, ClientRequestToken=name)
            outcomes[name] = ("committed", client.sim.now)
        except ClientError as e:
            outcomes[name] = (e, client.sim.now)
    return run


def test_two_transactions_overlapping_on_one_item_cancel_the_later_with_dynamodbs_shape():
    sim, client = emulated()
    outcomes: dict = {}
    sim.start(attempt(client, [put("A"), update("HOT")], outcomes, "first"), at=0.0, tag="order")
    sim.start(attempt(client, [put("B"), update("C"), update("HOT")], outcomes, "second"), at=0.005, tag="order")
    sim.run()
    assert outcomes["first"] == ("committed", pytest.approx(0.015))
    error, at = outcomes["second"]
    assert isinstance(error, client.exceptions.TransactionCanceledException) and isinstance(error, ClientError)
    assert error.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error.response["CancellationReasons"]] == ["None", "None", "TransactionConflict"]
    assert error.response["Message"].endswith("[None, None, TransactionConflict]")
    assert at == pytest.approx(0.007)  # refused after the modelled reply time, not after a hold
    assert client.counters.conflicts["order"] == 1 and client.counters.committed["order"] == 1
    assert client.inner.peek(TABLE, key("B")) is None  # nothing of the cancelled one was written


@pytest.mark.parametrize("first, second", [(update, check), (check, check), (check, update)],
                         ids=["check_after_write", "check_after_check", "write_after_check"])
def test_a_condition_check_conflicts_like_a_write(first, second):
    sim, client = emulated()
    outcomes: dict = {}
    sim.start(attempt(client, [put("A"), first("PERIOD")], outcomes, "first"), at=0.0)
    sim.start(attempt(client, [put("B"), second("PERIOD")], outcomes, "second"), at=0.010)
    sim.run()
    assert outcomes["first"][0] == "committed"
    reasons = [r["Code"] for r in outcomes["second"][0].response["CancellationReasons"]]
    assert reasons == ["None", "TransactionConflict"]


def test_concurrent_transactions_on_different_items_both_commit():
    sim, client = emulated()
    outcomes: dict = {}
    sim.start(attempt(client, [put("A"), update("X1")], outcomes, "first"), at=0.0)
    sim.start(attempt(client, [put("B"), update("X2")], outcomes, "second"), at=0.001)
    sim.run()
    assert outcomes == {"first": ("committed", pytest.approx(0.015)), "second": ("committed", pytest.approx(0.016))}
    assert client.inner.peek(TABLE, key("X1"))["n"] == {"N": "1"}


def test_a_transaction_that_starts_after_the_hold_ends_commits():
    sim, client = emulated()
    outcomes: dict = {}
    sim.start(attempt(client, [update("HOT")], outcomes, "first"), at=0.0)
    sim.start(attempt(client, [update("HOT")], outcomes, "second"), at=0.0151)
    sim.run()
    assert outcomes["first"][0] == outcomes["second"][0] == "committed"
    assert client.inner.peek(TABLE, key("HOT"))["n"] == {"N": "2"}


def test_a_plain_write_to_a_held_item_gets_transaction_conflict_but_a_read_does_not():
    sim, client = emulated()
    seen: dict = {}
    sim.start(lambda: client.transact_write_items(TransactItems=[update("HOT")]), at=0.0)

    def plain():
        seen["read"] = client.get_item(TableName=TABLE, Key=key("HOT"))
        try:
            client.put_item(TableName=TABLE, Item=key("HOT"))
        except ClientError as e:
            seen["write"] = e
    sim.start(plain, at=0.001)
    sim.run()
    assert seen["read"] == {}  # read-committed: the transaction had not committed yet
    assert isinstance(seen["write"], client.exceptions.TransactionConflictException)
    assert seen["write"].response["Error"]["Code"] == "TransactionConflictException"


def test_the_stores_retry_waits_in_modelled_time_until_the_holder_commits():
    sim, client = emulated()
    holder_done: dict = {}
    sim.start(lambda: holder_done.setdefault("at", (client.transact_write_items(TransactItems=[update("HOT")]),
                                                    sim.now)[1]), at=0.0)
    table = Table(client, TABLE, Retry(attempts=8, sleep=sim.sleep, rng=random.Random(3)))
    result: dict = {}

    def order():
        table.transact([Op.update(("HOT", "X"), "ADD n :one", values={":one": 1})])
        result["at"] = sim.now
    sim.start(order, at=0.002)
    sim.run()
    assert client.counters.conflicts[""] >= 1 and result["at"] > holder_done["at"]
    assert client.inner.peek(TABLE, key("HOT"))["n"] == {"N": "2"}


def test_the_store_gives_up_with_a_concurrent_update_when_the_item_stays_held():
    sim, client = emulated(Model(hold=Duration(5.0, 0), reject=Duration(0.001, 0)))
    sim.start(lambda: client.transact_write_items(TransactItems=[update("HOT")]), at=0.0)
    table = Table(client, TABLE, Retry(attempts=4, sleep=sim.sleep, rng=random.Random(3)))
    raised: dict = {}

    def order():
        with pytest.raises(ConcurrentUpdate):
            table.transact([Op.update(("HOT", "X"), "ADD n :one", values={":one": 1})])
        raised["at"] = sim.now
    sim.start(order, at=0.001)
    sim.run()
    assert client.counters.conflicts[""] == 4 and raised["at"] < 1.0


def _one_kb_items(pk: str, n: int, gsi: str | None = None) -> list[dict]:
    filler = "x" * (KB - 60)
    return [{**key(pk if gsi is None else f"{pk}{i}", f"S{i:05d}"), "f": {"S": filler},
             **({schema.GSI1PK: {"S": gsi}, schema.GSI1SK: {"S": f"{i:05d}"}} if gsi else {})} for i in range(n)]


def test_a_partition_key_past_1000_write_units_a_second_is_throttled():
    sim, client = emulated()
    errors: list = []

    def writer(item):
        def run():
            try:
                client.put_item(TableName=TABLE, Item=item)
            except ClientError as e:
                errors.append(e)
        return run
    # 1,200 one-unit writes to one partition key within 0.6 s: the first 1,000 pass, then throttling.
    for i, item in enumerate(_one_kb_items("HOT", 1200)):
        sim.start(writer(item), at=i * 0.0005, tag="click")
    sim.run()
    c = client.counters
    assert c.throttled["click"] > 0 and c.botocore_retries["click"] > 0
    assert c.consumed[("table", "HOT")].peak == 1000  # never more than the limit within any second
    assert c.requested[("table", "HOT")].peak > 1000
    assert all(isinstance(e, client.exceptions.ProvisionedThroughputExceededException) for e in errors)


def test_a_throttled_write_that_botocore_stops_retrying_raises_what_botocore_raises():
    sim, client = emulated(Model(write=Duration(0.001, 0), botocore_attempts=1))
    errors: list = []

    def writer(item):
        def run():
            try:
                client.put_item(TableName=TABLE, Item=item)
            except ClientError as e:
                errors.append(e)
        return run
    for i, item in enumerate(_one_kb_items("HOT", 1010)):
        sim.start(writer(item), at=i * 0.0005)
    sim.run()
    assert len(errors) == 10 and client.counters.botocore_retries[""] == 0
    e = errors[0]
    assert isinstance(e, client.exceptions.ProvisionedThroughputExceededException)
    assert e.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert e.response["ThrottlingReasons"][0]["reason"] == "TableWriteKeyRangeThroughputExceeded"


def test_an_index_partition_key_past_the_limit_throttles_writes_to_different_table_keys():
    sim, client = emulated()
    outcomes: list = []

    def tx(item):
        def run():
            try:
                client.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": item}}])
                outcomes.append("ok")
            except ClientError as e:
                outcomes.append([r["Code"] for r in e.response["CancellationReasons"]])
        return run
    # Each write is to its own table partition key (2 units there) but all share one GSI1 key (1 unit).
    for i, item in enumerate(_one_kb_items("P", 1100, gsi="HOTINDEX")):
        sim.start(tx(item), at=i * 0.0005)
    sim.run()
    assert client.counters.consumed[("GSI1", "HOTINDEX")].peak == 1000
    assert ["ThrottlingError"] in outcomes and outcomes.count("ok") == 1000
    assert client.hottest("GSI1")[1] == "HOTINDEX"


def test_write_units_follow_item_size_transactions_and_indexes():
    small = {**key("A"), "v": {"S": "x" * 100}}
    big = {**key("A"), "v": {"S": "x" * 1500}, schema.GSI1PK: {"S": "G"}, schema.GSI1SK: {"S": "1"}}
    assert [(c.index, c.units) for c in write_charges(None, small, transactional=False)] == [("table", 1)]
    assert [(c.index, c.units) for c in write_charges(None, small, transactional=True)] == [("table", 2)]
    # 1.5 KB: 2 units, doubled in a transaction; the index copy costs its own 2, not doubled.
    assert [(c.index, c.key, c.units) for c in write_charges(small, big, transactional=True)] == \
        [("table", "A", 4), ("GSI1", "G", 2)]
    assert [(c.index, c.units) for c in write_charges(big, None, transactional=True, check_only=True)] == \
        [("table", 4)]
    moved = {**big, schema.GSI1PK: {"S": "H"}}
    assert [(c.index, c.key) for c in write_charges(big, moved, transactional=False)] == \
        [("table", "A"), ("GSI1", "G"), ("GSI1", "H")]


def test_modelled_time_runs_events_in_time_order_whatever_order_they_were_started_in():
    sim = Simulation(seed=1)
    log: list = []

    def proc(name, naps):
        def run():
            for nap in naps:
                sim.sleep(nap)
                log.append((round(sim.now, 6), name))
        return run
    sim.start(proc("b", [0.3, 0.1]), at=0.2)
    sim.start(proc("a", [0.1, 0.1, 0.1]), at=0.0)
    sim.start(proc("c", [0.0]), at=0.2)
    sim.run()
    assert log == [(0.1, "a"), (0.2, "a"), (0.2, "c"), (0.3, "a"), (0.5, "b"), (0.6, "b")]
    assert sim.now == pytest.approx(0.6)


def test_modelled_time_keeps_each_process_own_module_state_across_switches():
    sim = Simulation(seed=1)

    class App:
        current_request = None
    app, seen = App(), []
    sim.slots.append((app, "current_request"))

    def request(name):
        def run():
            app.current_request = name
            sim.sleep(0.01 if name == "first" else 0.001)
            seen.append((name, app.current_request))
        return run
    sim.start(request("first"), at=0.0)
    sim.start(request("second"), at=0.002)
    sim.run()
    assert seen == [("second", "second"), ("first", "first")]


def test_sleeping_outside_a_process_is_refused():
    with pytest.raises(RuntimeError):
        Simulation().sleep(0.1)


def test_the_emulation_wraps_any_low_level_client_moto_included():
    """The wrapper needs nothing of the in-memory table: over moto it reads an item's image with a
    GetItem to charge it, and the conflict and the commit are the same."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        real = boto3.client("dynamodb", region_name="us-east-1")
        schema.create_table(real, TABLE)
        sim = Simulation(seed=1)
        client = ContendedClient(real, sim, FIXED)
        outcomes: dict = {}
        sim.start(attempt(client, [put("A"), update("HOT")], outcomes, "first"), at=0.0, tag="order")
        sim.start(attempt(client, [put("B"), check("HOT")], outcomes, "second"), at=0.005, tag="order")
        sim.run()
        assert outcomes["first"][0] == "committed"
        assert [r["Code"] for r in outcomes["second"][0].response["CancellationReasons"]] == \
            ["None", "TransactionConflict"]
        assert real.get_item(TableName=TABLE, Key=key("HOT"))["Item"]["n"] == {"N": "1"}
        assert client.counters.write_units["order"] == 4  # the put and the update, 1 KB each, doubled
