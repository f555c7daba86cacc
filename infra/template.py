"""The merge template for `chalice package --merge-template`: every resource Chalice does not make
(table, export bucket, settlement queue and its DLQ, the scheduled functions' DLQ, alarms, the
telemetry key and the API's access log) plus the patches Chalice cannot express (partial-batch
reporting and a concurrency bound on the SQS event source, dead-letter queues, conditional reserved
concurrency, encrypted log groups, resource names in the environment).

The table's keys and index come from chalicelib/store/schema.py, the one schema the code, the
tests and the local runner use. Resource names come from the stage's environment variables in
.chalice/config.json, so a function's UPLINE_TABLE is by construction the table this stack makes.
IAM is not here: each function's written policy is .chalice/policy-<function>.json.

    python -m infra.package --stage dev      # writes build/dev/ (merge template + packaged app)
"""

from __future__ import annotations

import json
import sys
from typing import Any

from chalicelib.api.gateway import sam_gateway_responses
from chalicelib.store import schema

from . import alarms, telemetry
from .stage import config_from_disk, environment, functions

NO_VALUE = {"Ref": "AWS::NoValue"}
VISIBILITY_TIMEOUT_FACTOR = 6  # AWS: queue visibility >= 6x the consuming function's timeout
MAX_RECEIVE_COUNT = 5  # deliveries before a message moves to the DLQ
SETTLEMENT_QUEUE = "upline-settlement"  # the name @on_sqs_message is declared with in jobs.py
WEBHOOK_QUEUE = "upline-webhooks"  # likewise for the outbound webhook worker
STREAM_READERS = ("project_figures", "outbound_events")  # the table's stream's two readers (its limit)
# Queues and logs go with the stack (a deleted stack has no work in flight worth keeping); the
# table and the export bucket hold money records and are retained.
TRANSIENT = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}


def sub_if_needed(value: str) -> Any:
    """Config values such as `upline-dev-exports-${AWS::AccountId}` become Fn::Sub in the template."""
    return {"Fn::Sub": value} if "${" in value else value


def _if_customer_key(with_key: Any, without: Any) -> dict:
    return {"Fn::If": ["UseCustomerKey", with_key, without]}


def _if_reserving(value: Any) -> dict:
    return {"Fn::If": ["ReserveConcurrency", value, NO_VALUE]}


def parameters(stage: str) -> dict[str, Any]:
    return {
        "Stage": {
            "Type": "String",
            "Default": stage,
            "AllowedValues": [stage],
            "Description": "The Chalice stage this template was packaged for (fixed at package time).",
        },
        "KmsKeyArn": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": r"^$|^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[a-zA-Z0-9-]+$",
            "Description": "Optional customer-managed KMS key for the table and the export bucket. "
            "Empty: the AWS managed keys (aws/dynamodb, SSE-S3).",
        },
        "AlarmEmail": {
            "Type": "String",
            "Default": "",
            "Description": "Optional address subscribed to the alarm topic (confirm the e-mail).",
        },
        "SettlementDeadlineHours": {
            "Type": "Number",
            "Default": 26,
            "MinValue": 2,
            "MaxValue": 168,
            "Description": "Alarm when no settlement has completed for this many hours (daily cadence plus grace).",
        },
        "ReserveConcurrency": {
            "Type": "String",
            "Default": "true",
            "AllowedValues": ["true", "false"],
            "Description": "Reserve each function's concurrency (reserved_concurrency in "
            ".chalice/config.json). 'false' only for an account whose Lambda "
            "concurrency quota is too small to reserve any (new accounts).",
        },
    }


def conditions() -> dict[str, Any]:
    return {
        "UseCustomerKey": {"Fn::Not": [{"Fn::Equals": [{"Ref": "KmsKeyArn"}, ""]}]},
        "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]},
        "ReserveConcurrency": {"Fn::Equals": [{"Ref": "ReserveConcurrency"}, "true"]},
    }


def table_resource(stage: str = "dev") -> dict[str, Any]:
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "TableName": environment(stage)["UPLINE_TABLE"],
            "KeySchema": schema.KEY_SCHEMA,
            "AttributeDefinitions": schema.ATTRIBUTE_DEFINITIONS,
            "GlobalSecondaryIndexes": schema.GLOBAL_SECONDARY_INDEXES,
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {
                "SSEEnabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": _if_customer_key({"Ref": "KmsKeyArn"}, NO_VALUE),
            },
            "TimeToLiveSpecification": {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True},
            "DeletionProtectionEnabled": stage == "prod",
            # The projector (chalicelib/jobs.project_figures) reads partners' ledgers from it.
            "StreamSpecification": {"StreamViewType": schema.STREAM["StreamViewType"]},
        },
    }


def export_bucket(stage: str) -> dict[str, Any]:
    sse = _if_customer_key(
        {
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Ref": "KmsKeyArn"}},
            "BucketKeyEnabled": True,
        },
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}},
    )
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",  # settlement exports are financial records
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": sub_if_needed(environment(stage)["UPLINE_EXPORT_BUCKET"]),
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [sse]},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "Id": "exports-age-out-of-hot-storage",
                        "Status": "Enabled",
                        "Transitions": [
                            {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
                            {"StorageClass": "GLACIER_IR", "TransitionInDays": 180},
                        ],
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 365},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                    }
                ]
            },
        },
    }


def export_bucket_policy() -> dict[str, Any]:
    """Refuse anything that is not TLS; the bucket is reachable only through the roles' policies."""
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": "ExportBucket"},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TLSOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [{"Fn::GetAtt": ["ExportBucket", "Arn"]}, {"Fn::Sub": "${ExportBucket.Arn}/*"}],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            },
        },
    }


def settlement_queue_name(stage: str) -> str:
    return environment(stage)["UPLINE_SETTLEMENT_QUEUE_URL"].rstrip("/").rsplit("/", 1)[1]


def settlement_worker(stage: str):
    return _consumer(stage, SETTLEMENT_QUEUE)


def webhook_worker(stage: str):
    return _consumer(stage, WEBHOOK_QUEUE)


def webhook_queue_name(stage: str) -> str:
    return environment(stage)["UPLINE_WEBHOOK_QUEUE_URL"].rstrip("/").rsplit("/", 1)[1]


def _consumer(stage: str, queue: str):
    consumers = [f for f in functions(stage) if f.sqs_queue == queue]
    if len(consumers) != 1:
        raise ValueError(f"expected exactly one @on_sqs_message(queue={queue!r}), found {consumers}")
    return consumers[0]


def queues(stage: str) -> dict[str, Any]:
    name = settlement_queue_name(stage)
    worker = settlement_worker(stage)
    hooks, hook_worker = webhook_queue_name(stage), webhook_worker(stage)
    return {
        # Events the scheduled functions failed on after Lambda's two retries land here (with the
        # error in the message attributes), instead of being dropped.
        "ScheduleDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            **TRANSIENT,
            "Properties": {
                "QueueName": f"upline-{stage}-schedule-dlq",
                "MessageRetentionPeriod": 14 * 24 * 3600,
                "SqsManagedSseEnabled": True,
            },
        },
        # Stream batches the projector failed on after its retries (kept 14 days, for a replay).
        "StreamDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            **TRANSIENT,
            "Properties": {
                "QueueName": f"upline-{stage}-stream-dlq",
                "MessageRetentionPeriod": 14 * 24 * 3600,
                "SqsManagedSseEnabled": True,
            },
        },
        "SettlementDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            **TRANSIENT,
            "Properties": {
                "QueueName": f"{name}-dlq",
                "MessageRetentionPeriod": 14 * 24 * 3600,
                "SqsManagedSseEnabled": True,
            },
        },
        # Outbound webhook deliveries (jobs.webhook_worker). A failed attempt is queued again by the
        # worker with its backoff; only a worker that keeps crashing on a message parks it here.
        "WebhookDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            **TRANSIENT,
            "Properties": {
                "QueueName": f"{hooks}-dlq",
                "MessageRetentionPeriod": 14 * 24 * 3600,
                "SqsManagedSseEnabled": True,
            },
        },
        "WebhookQueue": {
            "Type": "AWS::SQS::Queue",
            **TRANSIENT,
            "Properties": {
                "QueueName": hooks,
                "VisibilityTimeout": VISIBILITY_TIMEOUT_FACTOR * hook_worker.timeout,
                # Longer than the retry window (a delivery is retried for at least 24 h).
                "MessageRetentionPeriod": 4 * 24 * 3600,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]},
                    "maxReceiveCount": MAX_RECEIVE_COUNT,
                },
            },
        },
        "SettlementQueue": {
            "Type": "AWS::SQS::Queue",
            **TRANSIENT,
            "Properties": {
                "QueueName": name,
                "VisibilityTimeout": VISIBILITY_TIMEOUT_FACTOR * worker.timeout,
                "MessageRetentionPeriod": 4 * 24 * 3600,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["SettlementDeadLetterQueue", "Arn"]},
                    "maxReceiveCount": MAX_RECEIVE_COUNT,
                },
            },
        },
    }


def function_patches(stage: str) -> dict[str, Any]:
    """Deep-merged over what Chalice generates: fixed names, CloudFormation substitutions in the
    environment, reserved concurrency (unless the account cannot reserve any), a dead-letter queue
    for every asynchronously invoked function, encrypted log groups, and the settlement worker's
    event source pointed at this stack's queue with partial batch failure reporting and a
    concurrency bound (Chalice's SQS event has neither option)."""
    patches: dict[str, Any] = {}
    for fn in functions(stage):
        env = {k: sub_if_needed(v) for k, v in fn.environment.items() if "${" in v}
        props: dict[str, Any] = {"FunctionName": f"upline-{stage}-{fn.name}"}
        if env:
            props["Environment"] = {"Variables": env}
        if fn.reserved_concurrency is not None:
            props["ReservedConcurrentExecutions"] = _if_reserving(fn.reserved_concurrency)
        if fn.asynchronous:
            props["DeadLetterQueue"] = {"Type": "SQS", "TargetArn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}}
        patches[fn.logical_id] = {"Properties": props}
        # Chalice names the API function's log group after "ApiHandler" while the function is
        # "APIHandler" (a dangling Sub that cfn-lint reports); point every log group at its function.
        patches[fn.log_group_logical_id] = {
            **TRANSIENT,
            "Properties": {
                "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{fn.logical_id}}}"},
                **telemetry.log_group_patch(),
            },
        }
    for worker, queue in ((settlement_worker(stage), "SettlementQueue"), (webhook_worker(stage), "WebhookQueue")):
        if not worker.reserved_concurrency or worker.reserved_concurrency < 2:
            raise ValueError(
                f"{worker.name} needs a reserved_concurrency of at least 2 in .chalice/config.json "
                "(its event source's MaximumConcurrency is set to the same number; SQS allows 2 to 1000)"
            )
        patches[worker.logical_id]["Properties"]["Events"] = {
            f"{worker.logical_id}SqsEventSource": {
                "Properties": {
                    # Chalice writes the ARN as {"Fn::Sub": ...}; the merge is per key, so replace that key's value.
                    "Queue": {"Fn::Sub": f"${{{queue}.Arn}}"},
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    # Never poll more batches than the function may run at once: a batch throttled by reserved
                    # concurrency goes back to the queue and counts as a receive, towards the DLQ.
                    "ScalingConfig": {"MaximumConcurrency": worker.reserved_concurrency},
                }
            }
        }
    for reader in (fn for fn in functions(stage) if fn.name in STREAM_READERS):
        patches[reader.logical_id]["Properties"]["Events"] = {
            f"{reader.logical_id}DynamodbEventSource": {
                "Properties": {
                    # Chalice writes the stream ARN the decorator names; this stack's table's stream instead.
                    "Stream": {"Fn::GetAtt": ["UplineTable", "StreamArn"]},
                    # A failing batch is split to isolate the record, retried, then parked: both readers
                    # are idempotent (store/stats.py, store/outbound.py), so a replay from the DLQ is safe.
                    "BisectBatchOnFunctionError": True,
                    "MaximumRetryAttempts": 10,
                    "MaximumRecordAgeInSeconds": 24 * 3600,
                    "DestinationConfig": {
                        "OnFailure": {"Destination": {"Fn::GetAtt": ["StreamDeadLetterQueue", "Arn"]}}
                    },
                }
            }
        }
    patches["RestAPI"] = telemetry.api_patch()
    patches["RestAPI"]["Properties"]["Name"] = f"upline-{stage}"
    # What API Gateway answers by itself (an unknown path or method, throttling, a body too large,
    # a timeout) in the house error shape with the security headers: chalicelib/api/gateway.py.
    patches["RestAPI"]["Properties"]["GatewayResponses"] = sam_gateway_responses()
    return patches


def outputs() -> dict[str, Any]:
    return {
        "TableName": {"Value": {"Ref": "UplineTable"}},
        "ExportBucketName": {"Value": {"Ref": "ExportBucket"}},
        "SettlementQueueUrl": {"Value": {"Ref": "SettlementQueue"}},
        "SettlementDeadLetterQueueUrl": {"Value": {"Ref": "SettlementDeadLetterQueue"}},
        "StreamDeadLetterQueueUrl": {"Value": {"Ref": "StreamDeadLetterQueue"}},
        "WebhookQueueUrl": {"Value": {"Ref": "WebhookQueue"}},
        "WebhookDeadLetterQueueUrl": {"Value": {"Ref": "WebhookDeadLetterQueue"}},
        "ScheduleDeadLetterQueueUrl": {"Value": {"Ref": "ScheduleDeadLetterQueue"}},
        "ApiAccessLogGroupName": {"Value": {"Ref": telemetry.ACCESS_LOG_GROUP}},
        "AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}},
    }


def template(stage: str = "dev") -> dict[str, Any]:
    resources: dict[str, Any] = {
        "UplineTable": table_resource(stage),
        "ExportBucket": export_bucket(stage),
        "ExportBucketPolicy": export_bucket_policy(),
        **queues(stage),
        telemetry.KEY: telemetry.key(stage),
        f"{telemetry.KEY}Alias": telemetry.key_alias(stage),
        **telemetry.api_logging(stage, config_from_disk()["log_retention_in_days"], TRANSIENT),
        **alarms.resources(stage, functions(stage)),
        **function_patches(stage),
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Upline ({stage}): Chalice app, its table, export bucket, queues, alarms and telemetry",
        "Parameters": parameters(stage),
        "Conditions": conditions(),
        "Resources": resources,
        "Outputs": outputs(),
    }


if __name__ == "__main__":
    json.dump(template(sys.argv[1] if len(sys.argv) > 1 else "dev"), sys.stdout, indent=2)
    sys.stdout.write("\n")
