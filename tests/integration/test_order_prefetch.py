"""An order whose click id (or already resolved referral code) names the partner reads it in read 1,
so with its chain recently read by this process the order is one read and one write; the stored
click, never the hint, decides who is credited."""
import pytest

from chalicelib import bootstrap
from chalicelib.domain.links import CodeRef
from tests.support.helpers import DynamoCalls
from tests.support.program import Program, credited

pytestmark = pytest.mark.integration


@pytest.fixture
def program(api_any):
    p = Program(api_any)
    p.publish_plan({"levels_bps": [500] * 10, "cap_bps": 6000, "effective_from": "2020-01-01T00:00:00Z"})
    return p


def test_an_order_through_a_click_reads_its_partner_in_read_one_and_its_chain_once_per_process(program):
    """Read 1 brings the click and the partner its id names (so the partner's upline hint is known
    without a read of its own); the chain's own items are read 2 the first time, then come from the
    process's recent reads (exact for less than the fence): one read and one write."""
    codes = [f"PF{i:02d}" for i in range(11)]
    program.chain(codes)
    click_id = program.follow(program.link(codes[-1]))
    calls = DynamoCalls(bootstrap.table().client)
    r = program.order("o1", 100_000, customer="new-buyer", click_id=click_id)
    assert r.status_code == 201
    assert len(credited(r)) == 10
    assert calls.ops == {"BatchGetItem": 2, "TransactWriteItems": 1}, calls.ops
    click_id = program.follow(program.link(codes[-1]))
    calls.reset()
    r = program.order("o2", 100_000, customer="other-buyer", click_id=click_id)
    assert r.status_code == 201
    assert len(credited(r)) == 10
    assert calls.ops == {"BatchGetItem": 1, "TransactWriteItems": 1}, calls.ops


def test_an_order_with_a_referral_code_this_process_knows_is_one_read_and_one_write(program):
    program.chain(["RC00", "RC01"])
    assert program.order("o1", 1000, customer="a", referral_code="RC01").status_code == 201
    calls = DynamoCalls(bootstrap.table().client)
    r = program.order("o2", 1000, customer="b", referral_code="RC01")
    assert r.status_code == 201
    assert credited(r) == {"P-RC01": 50, "P-RC00": 50}
    assert calls.ops == {"BatchGetItem": 1, "TransactWriteItems": 1}, calls.ops


def test_a_click_id_naming_another_partner_still_credits_the_partner_of_the_stored_click(program):
    program.enrol("REAL")
    program.enrol("DECOY")
    uow = bootstrap.uow()
    forged = "c_" + "Z" * 20 + "P-DECOY"  # the id names DECOY, the stored click belongs to REAL
    s = bootstrap.settings()
    assert uow.write(uow.links.click(forged, CodeRef("REAL", "partner", "P-REAL"), "ip", "ua", bootstrap.now(),
                                     s.click_ttl))
    calls = DynamoCalls(bootstrap.table().client)
    r = program.order("o1", 10_000, customer="c", click_id=forged)
    assert r.status_code == 201
    assert credited(r) == {"P-REAL": 500}
    assert calls.reads == 2 and calls.writes == 1, calls.ops


def test_a_click_id_without_a_partner_part_is_still_honoured(program):
    program.enrol("OLD")
    uow = bootstrap.uow()
    old_style = "c_" + "Y" * 20
    assert uow.write(uow.links.click(old_style, CodeRef("OLD", "partner", "P-OLD"), "ip", "ua", bootstrap.now(),
                                     bootstrap.settings().click_ttl))
    r = program.order("o1", 10_000, customer="d", click_id=old_style)
    assert r.status_code == 201
    assert credited(r) == {"P-OLD": 500}
