"""The order path shares no item with other orders; what keeps it right is time (issue 18). With a
clock the test moves, on the in-memory twin:
- an order committing just before a period's lock lands in that period, one just after in the next;
- settlement of a period refuses to start until the fence after its lock has passed;
- a status change and a move take effect at their instant: orders on either side of it are
  credited by the tree in effect at their own instant;
- the write deadline: a request's write sent past it fails and writes nothing;
- a projection batch applied twice changes nothing.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.attribution import AttributionRules
from chalicelib.domain.errors import TooSlow, Unprocessable
from chalicelib.domain.orders import OrderCommand
from chalicelib.domain.periods import Calendar
from chalicelib.domain.standing import TreeRules
from chalicelib.services import orders as orders_svc
from chalicelib.services import partners as partner_svc
from chalicelib.services import plans as plans_svc
from chalicelib.services import projection
from chalicelib.services.settlement.close import close_period
from chalicelib.services.settlement.deps import Deps
from chalicelib.store.files import FolderFiles
from chalicelib.store.memory import MemoryTable
from chalicelib.store.repositories import Repositories
from chalicelib.store.stats import TOTAL
from chalicelib.store.uow import UnitOfWork, write_deadline

UTC = timezone.utc
FENCE = timedelta(minutes=5)
CAL = Calendar(tz="UTC", lock_days=3, fence=FENCE)
TREE = TreeRules(max_depth=10, fence=FENCE)
RULES = AttributionRules(timedelta(days=30), True)
START = datetime(2026, 3, 1, tzinfo=UTC)


class World:
    """A program on the twin: a 2-level plan (10% / 5%) and partners A <- B <- C (and D beside A)."""

    def __init__(self) -> None:
        self.table = MemoryTable()
        self.repos = Repositories(self.table)
        plans_svc.publish(self.uow(), levels_bps=[1000, 500], cap_bps=None, rank_overrides={}, holding_days=0,
                          effective_from=START, created_by="admin", max_depth=10,
                          now=START)
        for code, sponsor in (("AAA", None), ("DDD", None), ("BBB", "AAA"), ("CCC", "BBB")):
            partner_svc.enrol(self.uow(), name=code, code=code, sponsor_code=sponsor, customer_hash=None,
                              fingerprint=code, max_depth=10, now=START)
        self.n = 0

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.repos)

    def order(self, code: str, at: datetime, now: datetime | None = None, amount: int = 10_000) -> dict:
        self.n += 1
        cmd = OrderCommand(f"o{self.n}", f"cust-{self.n}", amount, "USD", at, f"fp{self.n}", referral_code=code)
        return orders_svc.attribute_order(self.uow(), cmd, RULES, now or at, CAL, tree=TREE).result

    def paid(self, result: dict) -> dict[str, int]:
        return {c["partner_id"]: c["amount_minor"] for c in result["commissions"]}


@pytest.fixture
def world() -> World:
    return World()


def test_an_order_just_before_the_lock_lands_in_its_period_and_one_just_after_in_the_next(world):
    lock = CAL.lock_at("2026-03")
    before = world.order("CCC", datetime(2026, 3, 31, 23, 0, tzinfo=UTC), now=lock - timedelta(microseconds=1))
    after = world.order("CCC", datetime(2026, 3, 31, 23, 0, tzinfo=UTC), now=lock)
    assert before["period"] == "2026-03" and after["period"] == "2026-04"


def test_settlement_refuses_to_start_until_the_fence_after_the_lock_has_passed(world, tmp_path):
    world.order("CCC", datetime(2026, 3, 10, tzinfo=UTC))
    d = Deps(uow=world.uow(), files=FolderFiles(tmp_path), cal=CAL, tree=TREE)
    lock = CAL.lock_at("2026-03")
    for too_soon in (lock, lock + FENCE - timedelta(microseconds=1)):
        with pytest.raises(Unprocessable) as refused:
            close_period(d, "2026-03", too_soon, "finance-1")
        assert refused.value.code == "period_not_locked"
        assert world.repos.settlement.batch("2026-03") is None  # nothing started
    assert close_period(d, "2026-03", lock + FENCE, "finance-1")["status"] == "draft"


def test_a_status_change_takes_effect_at_its_instant_and_orders_either_side_follow_it(world):
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    at = now + FENCE + timedelta(minutes=1)
    partner_svc.set_status(world.uow(), "P-BBB", "inactive", None, now, TREE, effective_at=at)
    # Recorded now; in effect only from `at`: an order a moment before pays BBB its level...
    assert world.paid(world.order("CCC", at - timedelta(microseconds=1))) == {"P-CCC": 1000, "P-BBB": 500}
    # ... and one at `at` passes BBB over: compression gives its level to AAA.
    assert world.paid(world.order("CCC", at)) == {"P-CCC": 1000, "P-AAA": 500}


def test_a_change_cannot_be_scheduled_sooner_than_the_fence(world):
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    with pytest.raises(Exception) as refused:
        partner_svc.set_status(world.uow(), "P-BBB", "inactive", None, now, TREE, effective_at=now + FENCE / 2)
    assert getattr(refused.value, "status", 422) in (409, 422)
    # Without an instant it takes effect as soon as the fence allows, not before.
    partner_svc.set_status(world.uow(), "P-BBB", "inactive", None, now, TREE)
    assert world.paid(world.order("CCC", now + FENCE - timedelta(seconds=1))) == {"P-CCC": 1000, "P-BBB": 500}
    assert world.paid(world.order("CCC", now + FENCE)) == {"P-CCC": 1000, "P-AAA": 500}


def test_a_move_takes_effect_at_its_instant_and_orders_either_side_are_credited_by_their_own_tree(world):
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    at = now + FENCE + timedelta(hours=1)
    partner_svc.move(world.uow(), "P-CCC", "DDD", now, TREE, effective_at=at)
    assert world.paid(world.order("CCC", at - timedelta(seconds=1))) == {"P-CCC": 1000, "P-BBB": 500}
    assert world.paid(world.order("CCC", at)) == {"P-CCC": 1000, "P-DDD": 500}


def test_a_write_sent_past_the_request_deadline_fails_and_writes_nothing(world):
    before = list(world.table.scan_wire())
    with write_deadline(time.monotonic() - 1):
        with pytest.raises(TooSlow):
            world.order("CCC", datetime(2026, 3, 10, tzinfo=UTC))
    assert world.repos.orders.get("o1") is None and list(world.table.scan_wire()) == before


def _ledger_records(table: MemoryTable) -> list[dict]:
    """Stream records (as the projector takes them) for every ledger item the table holds, numbered
    in the order they were written."""
    from chalicelib.store import dynamo

    out = []
    for n, item in enumerate(table.scan_wire()):
        if item["PK"]["S"].startswith("LEDGER#"):
            out.append({"event_name": "INSERT", "keys": {"PK": item["PK"], "SK": item["SK"]},
                        "new_image": item, "sequence_number": str(n + 1)})
    assert dynamo  # the wire form is DynamoDB's typed JSON, as a stream carries it
    return out


def test_a_projection_batch_applied_twice_changes_nothing(world):
    for _ in range(3):
        world.order("CCC", datetime(2026, 3, 10, tzinfo=UTC))
    records = _ledger_records(world.table)
    assert projection.project(world.uow(), records) > 0
    figures = world.repos.stats.get_many([("P-CCC", TOTAL)])[("P-CCC", TOTAL)].figures
    assert figures["attributed_orders"] == 3 and figures["sales_USD"] == 30_000
    assert projection.project(world.uow(), records) == 0  # the same batch again
    assert projection.project(world.uow(), records[1:] + records[:2]) == 0  # overlapping, out of order
    assert world.repos.stats.get_many([("P-CCC", TOTAL)])[("P-CCC", TOTAL)].figures == figures
