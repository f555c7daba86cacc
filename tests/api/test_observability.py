"""Structured logs carry a correlation id; orders, commissions and refunds emit metrics."""
import io
import json

import pytest

from chalicelib.observability import logger, metrics
from tests.support.program import Program


@pytest.fixture
def program(api):
    p = Program(api)
    p.publish_plan()
    p.enrol("AAA")
    return p


def test_each_request_logs_json_with_its_correlation_id(program):
    handler, out = logger.registered_handler, io.StringIO()
    stream = handler.setStream(out)
    logger.setLevel("INFO")
    try:
        r = program.c.get("/health", headers={"X-Correlation-Id": "corr-123"})
    finally:
        logger.setLevel("WARNING")
        handler.setStream(stream)
    assert r.headers["X-Correlation-Id"] == "corr-123"
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert any(x.get("correlation_id") == "corr-123" and x.get("path") == "/health" for x in lines)


def test_orders_commissions_and_refunds_are_counted(program, monkeypatch):
    seen = []
    monkeypatch.setattr(metrics, "add_metric", lambda name, unit, value: seen.append((name, value)))
    program.order("o1", 1000, referral_code="AAA")
    program.refund("o1", "r1", 1000)
    program.order("o2", 1000, customer="nobody")
    assert ("OrdersAttributed", 1) in seen and ("CommissionsCredited", 1) in seen
    assert ("Refunds", 1) in seen and ("OrdersUnattributed", 1) in seen
