"""CloudWatch alarms, all notifying one SNS topic.

App metrics are the EMF metrics chalicelib/observability.py emits: namespace "Upline" with the
powertools default dimension service="upline". The settlement job is expected to emit
`SettlementCompleted` (count 1) when a run finishes, and reconciliation `ReconciliationFailed`
(count >= 1) when totals do not agree. Both stages publish under the same dimension, so run dev and
prod in separate accounts (or add a stage dimension in the app) for these two alarms to be per stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .telemetry import KEY

APP_NAMESPACE = "Upline"
APP_DIMENSIONS = [{"Name": "service", "Value": "upline"}]
SETTLEMENT_COMPLETED = "SettlementCompleted"
RECONCILIATION_FAILED = "ReconciliationFailed"


def _alarm(
    description: str,
    namespace: str,
    metric: str,
    dimensions: list,
    statistic: str = "Sum",
    period: int = 300,
    evaluation_periods: int | dict[str, str] = 1,
    comparison: str = "GreaterThanThreshold",
    threshold: float = 0,
    missing: str = "notBreaching",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": dimensions,
            "Statistic": statistic,
            "Period": period,
            "EvaluationPeriods": evaluation_periods,
            "ComparisonOperator": comparison,
            "Threshold": threshold,
            "TreatMissingData": missing,
            "AlarmActions": [{"Ref": "AlarmTopic"}],
            "OKActions": [{"Ref": "AlarmTopic"}],
            **extra,
        },
    }


def resources(stage: str, functions: Iterable) -> dict[str, Any]:
    out: dict[str, Any] = {
        # Encrypted with the stack's telemetry key, whose policy lets CloudWatch alarms publish.
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": f"upline-{stage}-alarms", "KmsMasterKeyId": {"Fn::GetAtt": [KEY, "Arn"]}},
        },
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
        },
    }
    for fn in functions:
        dims = [{"Name": "FunctionName", "Value": {"Ref": fn.logical_id}}]
        out[f"{fn.logical_id}ErrorsAlarm"] = _alarm(
            f"{fn.name}: Lambda invocation errors", "AWS/Lambda", "Errors", dims
        )
        out[f"{fn.logical_id}ThrottlesAlarm"] = _alarm(f"{fn.name}: Lambda throttles", "AWS/Lambda", "Throttles", dims)
    # Chalice turns an exception in a route into a 500 without failing the invocation, so the
    # Lambda Errors metric misses it: watch the API's 5XX count too.
    out["ApiServerErrorsAlarm"] = _alarm(
        "API answered 5XX (Chalice catches route exceptions, so Lambda Errors does not see these)",
        "AWS/ApiGateway",
        "5XXError",
        [{"Name": "ApiName", "Value": f"upline-{stage}"}, {"Name": "Stage", "Value": "api"}],
    )
    out["SettlementDeadLetterQueueAlarm"] = _alarm(
        "Settlement work landed in the dead-letter queue: inspect, fix, then redrive",
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["SettlementDeadLetterQueue", "QueueName"]}}],
        statistic="Maximum",
    )
    out["WebhookDeadLetterQueueAlarm"] = _alarm(
        "An outbound webhook delivery's message crashed the worker repeatedly and was parked: read the "
        "worker's log, fix, then redrive (a delivery is never sent twice for one attempt)",
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["WebhookDeadLetterQueue", "QueueName"]}}],
        statistic="Maximum",
    )
    out["ScheduleDeadLetterQueueAlarm"] = _alarm(
        "A scheduled run failed three times and its event landed in the schedule DLQ: read the error, "
        "fix, then run the job again (every job is idempotent)",
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "QueueName"]}}],
        statistic="Maximum",
    )
    out["SettlementMissedDeadlineAlarm"] = _alarm(
        "No settlement completed within SettlementDeadlineHours (missing data counts as missed; "
        "a new stack is in ALARM until its first settlement completes)",
        APP_NAMESPACE,
        SETTLEMENT_COMPLETED,
        APP_DIMENSIONS,
        period=3600,
        evaluation_periods={"Ref": "SettlementDeadlineHours"},
        DatapointsToAlarm={"Ref": "SettlementDeadlineHours"},
        comparison="LessThanThreshold",
        threshold=1,
        missing="breaching",
    )
    out["ReconciliationFailedAlarm"] = _alarm(
        "Reconciliation found totals that do not agree", APP_NAMESPACE, RECONCILIATION_FAILED, APP_DIMENSIONS
    )
    return out
