"""Fixtures for the simulation: one moto session for many seeds, a fresh table per seed."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import boto3
import pytest

from chalicelib import bootstrap
from chalicelib.store.schema import create_table


@pytest.fixture
def moto_session():
    from moto import mock_aws

    from tests.support.fastmoto import fast_moto

    with mock_aws(), fast_moto():
        bootstrap.reset()
        yield boto3.client("dynamodb", region_name="us-east-1")
        bootstrap.reset()


@contextmanager
def fresh_table(client, name: str) -> Iterator[str]:
    create_table(client, name)
    previous = os.environ["UPLINE_TABLE"]
    os.environ["UPLINE_TABLE"] = name
    try:
        yield name
    finally:
        os.environ["UPLINE_TABLE"] = previous
        client.delete_table(TableName=name)
        forget_moto_instances()


def forget_moto_instances() -> None:
    """moto records every model object it creates (for its server's dashboard) and lets go only when
    the last mock stops (getmoto/moto#5920). Its TransactWriteItems deep-copies the whole table
    first, to roll back, so one mock session kept every table of every history ever run, copied once
    per transaction: ~4.4 MB a history, 3.2 GB after 650. Histories share one session, so each
    lets go of its own."""
    from moto.core.model_instances import reset_model_data

    reset_model_data()


@pytest.fixture
def http(moto_session):
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as client:
        yield client


def pytest_collection_modifyitems(config, items):
    """The long runs are opt-in: `pytest -m slow` (make test-slow) or UPLINE_SLOW=1. The whole
    suite (`make test`) stays within its time budget without them."""
    if "slow" in (config.getoption("markexpr") or "") and "not slow" not in config.getoption("markexpr"):
        return
    if os.environ.get("UPLINE_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="long simulation: run with `make test-slow` or -m slow")
    here = Path(__file__).parent
    for item in items:  # only the simulation's own long runs: other slow tests run in `make test`
        if "slow" in item.keywords and here in Path(item.path).parents:
            item.add_marker(skip)
