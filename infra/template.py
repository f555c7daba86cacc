"""CloudFormation for Upline's resources, built from the same table schema the code and tests use.

    python -m infra.template > build/resources.json
    chalice package --merge-template build/resources.json out/

(The deploy issue grows this into the full stack: bucket, queues, alarms, IAM.)"""
from __future__ import annotations

import json
import sys
from typing import Any

from chalicelib.store import schema


def table_resource() -> dict[str, Any]:
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "KeySchema": schema.KEY_SCHEMA,
            "AttributeDefinitions": schema.ATTRIBUTE_DEFINITIONS,
            "GlobalSecondaryIndexes": schema.GLOBAL_SECONDARY_INDEXES,
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True},
        },
    }


def template() -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"UplineTable": table_resource()},
        "Outputs": {"TableName": {"Value": {"Ref": "UplineTable"}}},
    }


if __name__ == "__main__":
    json.dump(template(), sys.stdout, indent=2)
    sys.stdout.write("\n")
