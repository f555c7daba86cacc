"""Fast service tests: the use cases on the in-memory twin (store/memory.py), through a unit of
work, with no moto, no HTTP and no clock but the one each test moves. tests/contract/ holds the
twin to DynamoDB's semantics, so what passes here means what it would mean on DynamoDB."""
from __future__ import annotations

import pytest

from chalicelib.store.memory import MemoryTable
from chalicelib.store.repositories import Repositories
from chalicelib.store.uow import UnitOfWork
from tests.service.shop import Interleaved, Shop


@pytest.fixture
def table():
    return Interleaved(MemoryTable())


@pytest.fixture
def uow(table):
    with UnitOfWork(Repositories(table)) as unit:
        yield unit


@pytest.fixture
def shop(uow):
    return Shop(uow)
