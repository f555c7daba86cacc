"""What the stack records about itself and how that is protected: the stack's own KMS key for its
log groups and its alarm topic, the API's access log, and X-Ray tracing on the API.

The key is the stack's, not the optional `KmsKeyArn` of the table and the export bucket: it protects
things that go with the stack (log groups and the topic are deleted with it), so it may go too; the
table and the bucket are retained and must never depend on a key the stack could delete.
"""

from __future__ import annotations

import json
from typing import Any

KEY = "TelemetryKey"
ACCESS_LOG_GROUP = "ApiAccessLogGroup"
API_LOG_ROLE = "ApiGatewayCloudWatchRole"
API_ACCOUNT = "ApiGatewayAccount"

# One JSON line per request. Never the caller's IP, user agent or identity ($context.identity.*):
# no raw IP is stored anywhere (the app keeps only keyed hashes), and access logs are no exception.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "time": "$context.requestTimeEpoch",
        "method": "$context.httpMethod",
        "resource": "$context.resourcePath",
        "status": "$context.status",
        "responseBytes": "$context.responseLength",
        "latencyMs": "$context.responseLatency",
        "integrationLatencyMs": "$context.integrationLatency",
        "integrationStatus": "$context.integration.status",
        "error": "$context.error.message",
        "xrayTraceId": "$context.xrayTraceId",
    },
    separators=(",", ":"),
)


def access_log_group_name(stage: str) -> str:
    return f"/upline/{stage}/api-access"


def _log_group_arn_patterns(stage: str) -> list[dict]:
    base = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    return [{"Fn::Sub": f"{base}/aws/lambda/upline-{stage}-*"}, {"Fn::Sub": base + access_log_group_name(stage)}]


def key(stage: str) -> dict[str, Any]:
    """A symmetric key, rotated yearly, that only this account's IAM policies, CloudWatch Logs (for
    this stack's log groups) and CloudWatch alarms (to publish to the encrypted topic) may use."""
    return {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "Description": f"upline-{stage}: encrypts the stack's log groups and its alarm topic",
            "EnableKeyRotation": True,
            "PendingWindowInDays": 30,
            "KeyPolicy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TheAccountAdministersTheKeyThroughIAM",
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Sid": "CloudWatchLogsForThisStacksLogGroupsOnly",
                        "Effect": "Allow",
                        "Principal": {"Service": {"Fn::Sub": "logs.${AWS::Region}.${AWS::URLSuffix}"}},
                        "Action": [
                            "kms:Encrypt*",
                            "kms:Decrypt*",
                            "kms:ReEncrypt*",
                            "kms:GenerateDataKey*",
                            "kms:Describe*",
                        ],
                        "Resource": "*",
                        "Condition": {
                            "ArnLike": {"kms:EncryptionContext:aws:logs:arn": _log_group_arn_patterns(stage)}
                        },
                    },
                    # CloudWatch calls KMS itself when an alarm publishes to an encrypted topic; without
                    # this grant the alarm changes state and nobody is told.
                    {
                        "Sid": "CloudWatchAlarmsOfThisAccountPublishToTheTopic",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                            "ArnLike": {
                                "aws:SourceArn": {
                                    "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:"
                                    "${AWS::Region}:${AWS::AccountId}:alarm:*"
                                }
                            },
                        },
                    },
                ],
            },
        },
    }


def key_alias(stage: str) -> dict[str, Any]:
    return {
        "Type": "AWS::KMS::Alias",
        "Properties": {"AliasName": f"alias/upline-{stage}-telemetry", "TargetKeyId": {"Ref": KEY}},
    }


def api_logging(stage: str, retention_days: int, transient: dict) -> dict[str, Any]:
    """The access log group, and the account-level role API Gateway needs to write any REST API log.

    That role is a per-account-and-region setting (AWS::ApiGateway::Account). Both are retained when
    the stack is deleted: the setting outlives the stack, and deleting the role would silently stop
    the logs of every other REST API in the account and region."""
    retained = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    return {
        ACCESS_LOG_GROUP: {
            "Type": "AWS::Logs::LogGroup",
            **transient,
            "Properties": {
                "LogGroupName": access_log_group_name(stage),
                "RetentionInDays": retention_days,
                "KmsKeyId": {"Fn::GetAtt": [KEY, "Arn"]},
            },
        },
        API_LOG_ROLE: {
            "Type": "AWS::IAM::Role",
            **retained,
            "Properties": {
                "Description": "API Gateway writes REST API logs to CloudWatch Logs (account setting)",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "apigateway.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "ManagedPolicyArns": [
                    {
                        "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                        "AmazonAPIGatewayPushToCloudWatchLogs"
                    }
                ],
            },
        },
        API_ACCOUNT: {
            "Type": "AWS::ApiGateway::Account",
            **retained,
            "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": [API_LOG_ROLE, "Arn"]}},
        },
    }


def api_patch() -> dict[str, Any]:
    """Merged over Chalice's RestAPI: access logs, X-Ray, and the account setting made first."""
    return {
        "DependsOn": [API_ACCOUNT],
        "Properties": {
            "TracingEnabled": True,
            "AccessLogSetting": {
                "DestinationArn": {"Fn::GetAtt": [ACCESS_LOG_GROUP, "Arn"]},
                "Format": ACCESS_LOG_FORMAT,
            },
        },
    }


def log_group_patch() -> dict[str, Any]:
    return {"KmsKeyId": {"Fn::GetAtt": [KEY, "Arn"]}}
