"""The shop's signed webhooks: orders and refunds."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Blueprint

from .. import bootstrap
from ..domain.attribution import AttributionRules
from ..domain.money import check_amount, check_currency
from ..domain.orders import OrderCommand, RefundCommand
from ..observability import metrics
from ..security import SIGNATURE_HEADER, TIMESTAMP_HEADER, identity_hashes, keyed_hash, verify_webhook
from ..services import orders as svc
from .http import fingerprint, json_response, parse, raw_body, route
from .schemas import OrderIn, RefundIn

bp = Blueprint(__name__)


def _verified_body() -> bytes:
    body = raw_body(bp)
    headers = bp.current_request.headers
    s = bootstrap.settings()
    verify_webhook(
        s.webhook_secrets,
        headers.get(TIMESTAMP_HEADER),
        headers.get(SIGNATURE_HEADER),
        body,
        int(bootstrap.now().timestamp()),
        s.webhook_tolerance_seconds,
    )
    return body


@route(bp, "/webhooks/orders", ("POST",), body=OrderIn)
def order_posted():
    body = _verified_body()
    req = parse(bp, OrderIn, body)
    s = bootstrap.settings()
    cmd = OrderCommand(
        order_id=req.order_id,
        customer_hash=keyed_hash(s.hash_pepper, req.customer_id),
        amount_minor=check_amount(req.amount_minor),
        currency=check_currency(req.currency, frozenset(s.currencies)),
        ordered_at=req.ordered_at,
        fingerprint=fingerprint(req),
        click_id=req.click_id,
        referral_code=req.referral_code,
        coupon_code=req.coupon_code,
        payment_hash=keyed_hash(s.hash_pepper, req.payment_fingerprint) if req.payment_fingerprint else None,
        identity_hashes=(
            keyed_hash(s.hash_pepper, req.customer_id),
            *identity_hashes(s.hash_pepper, req.email, req.phone, req.payment_fingerprint),
        ),
    )
    outcome = svc.attribute_order(
        bootstrap.uow(),
        cmd,
        AttributionRules(s.attribution_window, s.lifetime_binding),
        bootstrap.now(),
        s.calendar,
        s.fraud_rules,
        tree=s.tree_rules,
    )
    if outcome.created:
        if outcome.result["status"] == svc.HELD:
            metrics.add_metric(name="OrdersHeld", unit=MetricUnit.Count, value=1)
        if outcome.result["status"] in (svc.ATTRIBUTED, svc.HELD):
            metrics.add_metric(name="OrdersAttributed", unit=MetricUnit.Count, value=1)
            metrics.add_metric(
                name="CommissionsCredited", unit=MetricUnit.Count, value=len(outcome.result["commissions"])
            )
        else:
            metrics.add_metric(name="OrdersUnattributed", unit=MetricUnit.Count, value=1)
    return json_response(
        outcome.result, 201 if outcome.created else 200, {"Idempotent-Replay": "false" if outcome.created else "true"}
    )


@route(bp, "/webhooks/refunds", ("POST",), body=RefundIn)
def refund_posted():
    body = _verified_body()
    req = parse(bp, RefundIn, body)
    s = bootstrap.settings()
    cmd = RefundCommand(
        order_id=req.order_id,
        refund_id=req.refund_id,
        amount_minor=check_amount(req.amount_minor),
        currency=check_currency(req.currency, frozenset(s.currencies)),
        refunded_at=req.refunded_at,
        fingerprint=fingerprint(req),
    )
    outcome = svc.refund_order(bootstrap.uow(), cmd, bootstrap.now(), s.calendar)
    if outcome.created:
        metrics.add_metric(name="Refunds", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="CommissionsReversed", unit=MetricUnit.Count, value=len(outcome.result["reversals"]))
    return json_response(
        outcome.result, 201 if outcome.created else 200, {"Idempotent-Replay": "false" if outcome.created else "true"}
    )
