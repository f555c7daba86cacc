"""One contract, three backends: the in-memory twin, moto and DynamoDB Local (the Chalice sample
apps' `TestDynamoDB(TestTodoDB)` pattern, as a parametrized fixture)."""
from __future__ import annotations

import os

import pytest

from chalicelib.store.dynamo import Retry, Table
from chalicelib.store.memory import MemoryTable


@pytest.fixture(params=["memory", "moto", pytest.param("dynamodb_local", marks=pytest.mark.integration)])
def table(request):
    if request.param == "memory":
        return MemoryTable()
    client = request.getfixturevalue("moto_client" if request.param == "moto" else "local_client")
    return Table(client, os.environ["UPLINE_TABLE"], retry=Retry(attempts=1))
