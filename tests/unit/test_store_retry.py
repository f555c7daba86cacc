"""The store's retries: what is retried, with what backoff, and that a transaction keeps one
idempotency token across its retries."""
from __future__ import annotations

import random

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from chalicelib.domain.errors import AlreadyExists, ConcurrentUpdate
from chalicelib.store.dynamo import Op, Retry, Table


def error(code: str, **extra) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, **extra}, "Op")


def cancelled(*reasons: str) -> ClientError:
    return error("TransactionCanceledException", CancellationReasons=[{"Code": r} for r in reasons])


class Scripted:
    """A client whose calls fail as scripted, then succeed; it records what it was sent."""

    def __init__(self, *failures: Exception):
        self.failures = list(failures)
        self.sent: list[dict] = []

    def _call(self, **kwargs):
        self.sent.append(kwargs)
        if self.failures:
            raise self.failures.pop(0)
        return {}

    transact_write_items = put_item = update_item = get_item = _call


def table(client, sleeps: list[float]) -> Table:
    return Table(client, "t", Retry(sleep=sleeps.append, rng=random.Random(1)))


def test_throttling_is_retried_with_capped_jittered_backoff_until_it_succeeds():
    sleeps: list[float] = []
    client = Scripted(error("ProvisionedThroughputExceededException"), error("ThrottlingException"),
                      ReadTimeoutError(endpoint_url="x"))
    table(client, sleeps).put(("A", "B"), {"x": 1})
    assert len(client.sent) == 4 and len(sleeps) == 3
    assert all(0 <= s <= min(1.0, 0.02 * 2 ** i) for i, s in enumerate(sleeps))
    assert len(set(sleeps)) == 3  # jittered, not a fixed schedule


def test_retries_stop_after_the_last_attempt_and_the_error_reaches_the_caller():
    sleeps: list[float] = []
    client = Scripted(*[error("ProvisionedThroughputExceededException")] * 4)
    with pytest.raises(ClientError):
        table(client, sleeps).put(("A", "B"), {"x": 1})
    assert len(client.sent) == 4 and len(sleeps) == 3


@pytest.mark.parametrize("code", ["ValidationException", "ConditionalCheckFailedException", "AccessDeniedException"])
def test_errors_a_retry_cannot_fix_are_not_retried(code):
    sleeps: list[float] = []
    client = Scripted(error(code))
    with pytest.raises(ClientError):
        table(client, sleeps).put(("A", "B"), {"x": 1})
    assert len(client.sent) == 1 and sleeps == []


def test_a_transaction_cancelled_by_a_conflict_is_retried_with_the_same_client_request_token():
    sleeps: list[float] = []
    client = Scripted(cancelled("None", "TransactionConflict"), ReadTimeoutError(endpoint_url="x"))
    table(client, sleeps).transact([Op.put_new(("A", "B"), {"x": 1}), Op.put_new(("A", "C"), {"x": 2})])
    tokens = {c["ClientRequestToken"] for c in client.sent}
    assert len(client.sent) == 3 and len(tokens) == 1


def test_a_failed_condition_is_not_retried_and_says_already_done_or_concurrent():
    sleeps: list[float] = []
    with pytest.raises(AlreadyExists):
        table(Scripted(cancelled("ConditionalCheckFailed", "None")), sleeps).transact([Op.put_new(("A", "B"), {})])
    with pytest.raises(ConcurrentUpdate):
        table(Scripted(cancelled("None", "ConditionalCheckFailed")), sleeps).transact(
            [Op.put_new(("A", "B"), {}), Op.put_new(("A", "C"), {})])
    assert sleeps == []


def test_a_conflict_that_outlasts_the_retries_is_a_concurrent_update():
    client = Scripted(*[cancelled("TransactionConflict")] * 4)
    with pytest.raises(ConcurrentUpdate):
        table(client, []).transact([Op.put_new(("A", "B"), {})])
    assert len(client.sent) == 4
