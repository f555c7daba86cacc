"""An attributed order costs at most two batch reads and exactly one write, at any depth; one more read
only when inactive partners fill the stored upline and compression must look above it."""
from datetime import timedelta

import pytest

from chalicelib import bootstrap
from tests.support.helpers import DynamoCalls, auth, dumps
from tests.support.program import Program, credited

pytestmark = pytest.mark.integration


@pytest.fixture
def program(api_any):
    p = Program(api_any)
    p.publish_plan({"levels_bps": [500] * 10, "cap_bps": 6000, "effective_from": "2020-01-01T00:00:00Z"})
    return p


@pytest.mark.parametrize("depth", [1, 5, 10])
@pytest.mark.parametrize("source", ["click", "referral_code", "binding"])
def test_an_attributed_order_is_two_reads_and_one_write_at_depth(program, depth, source):
    codes = [f"D{depth:02d}L{i:02d}" for i in range(depth + 1)]
    program.chain(codes)
    leaf = codes[-1]
    extra = {}
    if source == "click":
        extra = {"click_id": program.follow(program.link(leaf))}
    elif source == "referral_code":
        extra = {"referral_code": leaf}
    else:
        program.order("first", 1000, customer="loyal", referral_code=leaf)
    calls = DynamoCalls(bootstrap.table().client)
    r = program.order("o1", 100_000, customer="loyal", **extra)
    assert r.status_code == 201
    assert len(credited(r)) == min(depth + 1, 10)
    assert calls.reads <= 2, calls.ops
    assert calls.writes == 1 and calls.ops["TransactWriteItems"] == 1, calls.ops
    assert sum(calls.ops.values()) == calls.reads + calls.writes, calls.ops


def test_a_refund_is_one_read_and_one_write(program):
    program.chain(["R00", "R01", "R02"])
    program.order("o1", 10000, referral_code="R02")
    calls = DynamoCalls(bootstrap.table().client)
    assert program.refund("o1", "r1", 5000).status_code == 201
    assert calls.reads == 1 and calls.writes == 1, calls.ops


def test_following_a_link_is_one_write_and_no_read_once_the_code_is_known(program):
    program.enrol("LNK")
    code = program.link("LNK")
    program.follow(code)  # first follow in this process reads the immutable code once
    calls = DynamoCalls(bootstrap.table().client)
    program.follow(code)
    # The one write is a conditional UpdateItem that records, de-duplicates and counts the click
    # (docs/architecture.md, "Abuse limits"): still exactly one call, and no read.
    assert calls.ops == {"UpdateItem": 1}, calls.ops


def test_a_table_from_an_older_schema_gains_the_indexes_added_since(local_client):
    import os

    from chalicelib.store import schema

    name = os.environ["UPLINE_TABLE"] + "-old"
    local_client.create_table(TableName=name, KeySchema=schema.KEY_SCHEMA,
                              AttributeDefinitions=schema.ATTRIBUTE_DEFINITIONS[:4],
                              GlobalSecondaryIndexes=schema.GLOBAL_SECONDARY_INDEXES[:1], BillingMode="PAY_PER_REQUEST")
    assert schema.create_table(local_client, name) is False
    indexes = local_client.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]
    assert sorted(g["IndexName"] for g in indexes) == ["GSI1", "GSI2"]
    local_client.delete_table(TableName=name)


def test_an_order_whose_inactive_upline_runs_past_the_stored_snapshot_reads_once_more(program, monkeypatch):
    """Five levels to fill; the leaf's stored ancestors are eight inactive partners and two active
    ones: the last stored ancestor's snapshot is read too (three reads), still one write. (A status
    change takes effect a fence after it is recorded: the order comes once it has.)"""
    program.publish_plan({"levels_bps": [1000, 500, 300, 200, 100], "effective_from": "2021-01-01T00:00:00Z"})
    top, idle = [f"DT{i}" for i in range(4)], [f"DI{i}" for i in range(8)]
    program.chain([*top, *idle, "DLEAF"])
    for code in idle:
        r = program.c.post(f"/admin/partners/P-{code}/status", headers=auth("admin"),
                           body=dumps({"status": "inactive"}))
        assert r.status_code == 200, r.body
    later = bootstrap.now() + bootstrap.settings().tree_rules.fence + timedelta(seconds=1)
    monkeypatch.setattr(bootstrap, "now", lambda: later)
    calls = DynamoCalls(bootstrap.table().client)
    r = program.order("o1", 100_000, referral_code="DLEAF")
    assert credited(r) == {"P-DLEAF": 10_000, "P-DT3": 5_000, "P-DT2": 3_000, "P-DT1": 2_000, "P-DT0": 1_000}
    assert calls.reads == 3 and calls.writes == 1, calls.ops


def test_an_order_whose_short_chain_leaves_levels_unpaid_reads_nothing_more(program):
    """A ten-level plan and a partner with one ancestor: the stored upline reaches the root, so no
    read goes looking above it."""
    program.chain(["SROOT", "SLEAF"])
    calls = DynamoCalls(bootstrap.table().client)
    r = program.order("o1", 100_000, referral_code="SLEAF")
    assert credited(r) == {"P-SLEAF": 5_000, "P-SROOT": 5_000}
    assert calls.reads <= 2 and calls.writes == 1, calls.ops
