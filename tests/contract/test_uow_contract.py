"""The unit of work's contract, on every backend: a claim made twice is AlreadyExists, any other
failed condition is ConcurrentUpdate, and nothing collected is written unless committed."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import AlreadyExists, ConcurrentUpdate
from chalicelib.store import ops
from chalicelib.store.repositories import Repositories
from chalicelib.store.uow import UnitOfWork


@pytest.fixture
def uow(table):
    return UnitOfWork(Repositories(table))


def test_a_claim_already_made_is_already_exists_and_writes_nothing_beside_it(uow):
    uow.claim(ops.put_new(("CLAIM#1", "C"), {"v": 1}))
    uow.commit()
    uow.claim(ops.put_new(("CLAIM#1", "C"), {"v": 2}))
    uow.add(ops.Put(("OTHER#1", "O"), {"v": 1}))
    with pytest.raises(AlreadyExists):
        uow.commit()
    assert uow.table.get(("OTHER#1", "O")) is None
    assert uow.table.get(("CLAIM#1", "C"))["v"] == 1


def test_any_other_failed_condition_is_a_concurrent_update(uow):
    uow.table.write(ops.Put(("COUNTER#1", "C"), {"n": 1}))
    uow.claim(ops.put_new(("CLAIM#2", "C"), {"v": 1}))
    uow.add(ops.Update(("COUNTER#1", "C"), add={"n": 1}, when=ops.eq("n", 0)))
    with pytest.raises(ConcurrentUpdate):
        uow.commit()
    assert uow.table.get(("CLAIM#2", "C")) is None


def test_leaving_the_block_without_committing_writes_nothing(uow):
    with uow:
        uow.claim(ops.put_new(("CLAIM#3", "C"), {"v": 1}))
    uow.commit()
    assert uow.table.get(("CLAIM#3", "C")) is None


def test_a_claim_must_be_a_create_and_there_is_one_per_unit(uow):
    with pytest.raises(ValueError):
        uow.claim(ops.Put(("CLAIM#4", "C"), {"v": 1}))
    uow.claim(ops.put_new(("CLAIM#4", "C"), {"v": 1}))
    with pytest.raises(ValueError):
        uow.claim(ops.put_new(("CLAIM#5", "C"), {"v": 1}))


def test_a_unit_commits_again_after_a_commit(uow):
    uow.add(ops.put_new(("A", "1"), {}))
    uow.commit()
    uow.add(ops.put_new(("A", "2"), {}))
    uow.commit()
    assert uow.table.get(("A", "1")) is not None and uow.table.get(("A", "2")) is not None
