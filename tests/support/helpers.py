"""Test helpers: signed webhook calls, tokens, and a DynamoDB call counter."""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

from chalicelib.auth import mint_token
from chalicelib.security import sign

WEBHOOK_SECRET = "test-webhook-secret-0123456789abcdef"
JWT_SECRET = "test-jwt-secret-0123456789abcdefghijkl"

TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "UPLINE_TABLE": "upline-test", "UPLINE_WEBHOOK_SECRETS": WEBHOOK_SECRET, "UPLINE_JWT_SECRET": JWT_SECRET,
    "UPLINE_HASH_PEPPER": "test-pepper", "UPLINE_ALLOWED_DOMAINS": "shop.example.com",
    "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING",
    # moto is not thread-safe: settle shards one at a time in tests (DynamoDB Local tests that
    # build their own Deps keep the default and so exercise the threads).
    "UPLINE_SETTLEMENT_THREADS": "1",
    # Programs in tests enrol many partners from one address; tests of the limit set their own.
    "UPLINE_SIGNUP_LIMIT": "10000",
    # Most tests order the moment after a click and refund freely; the fraud tests
    # (tests/api/test_abuse.py) switch these signals on with their own settings.
    "UPLINE_FRAUD_MIN_CLICK_SECONDS": "0", "UPLINE_FRAUD_REFUND_RATE_BPS": "10000",
    # Outbound webhooks are delivered to a receiver on 127.0.0.1 in the tests, as on the local stage;
    # the SSRF tests switch this off.
    "UPLINE_OUTBOUND_ALLOW_PRIVATE": "true",
}


def token(role: str, partner_id: str | None = None, subject: str | None = None,
          member_id: str | None = None) -> str:
    return mint_token(os.environ.get("UPLINE_JWT_SECRET", JWT_SECRET), role, subject or f"{role}-user",
                      partner_id=partner_id, member_id=member_id)


def auth(role: str, partner_id: str | None = None, subject: str | None = None,
         member_id: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, partner_id, subject, member_id)}",
            "Content-Type": "application/json"}


def signed_headers(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if at is None else at)
    return {"Content-Type": "application/json", "X-Upline-Timestamp": ts,
            "X-Upline-Signature": sign(secret, ts, body)}


def dumps(body: Any) -> bytes:
    return json.dumps(body).encode()


class DynamoCalls:
    """Counts DynamoDB operations on a boto3 client through botocore's event hooks."""

    READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
    WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}

    def __init__(self, client: Any):
        self.ops: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", self._seen)

    def _seen(self, model, **_: Any) -> None:
        self.ops[model.name] += 1

    def reset(self) -> None:
        self.ops.clear()

    @property
    def reads(self) -> int:
        return sum(v for k, v in self.ops.items() if k in self.READS)

    @property
    def writes(self) -> int:
        return sum(v for k, v in self.ops.items() if k in self.WRITES)


def resident_mb() -> float:
    """This process's resident memory now (not its peak), from /proc (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")
