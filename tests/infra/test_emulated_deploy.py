"""Create the packaged stack in moto's emulated CloudFormation: the nearest thing to a deploy that
CI can do without an AWS account. It proves the names the functions are given resolve to the
resources the stack really makes, and that the event source mapping comes out as intended.

moto cannot create everything: the API Gateway resources (it refuses the Chalice-generated REST API
body), and it skips alarms and the bucket policy with a warning. Those are left out here and
covered by the structural tests and cfn-lint."""
from __future__ import annotations

import json
import os

import boto3
import pytest

from chalicelib import secret_source
from chalicelib.store import schema

UNSUPPORTED_BY_MOTO = ("AWS::ApiGateway::", "AWS::CloudWatch::Alarm", "AWS::S3::BucketPolicy")


@pytest.fixture
def deployed(packaged_stages, monkeypatch):
    from moto import mock_aws

    packaged = packaged_stages["dev"]
    template = packaged.transformed()
    template["Resources"] = {k: v for k, v in template["Resources"].items()
                             if not v["Type"].startswith(UNSUPPORTED_BY_MOTO) and k != "APIHandlerInvokePermission"}
    template["Outputs"] = {k: v for k, v in template["Outputs"].items() if k not in ("EndpointURL", "RestAPIId")}
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="artifacts-bucket")
        s3.upload_file(str(packaged.path.with_name("deployment.zip")), "artifacts-bucket", "deployment.zip")
        cfn = boto3.client("cloudformation")
        cfn.create_stack(StackName="upline-dev", TemplateBody=json.dumps(template),
                         Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
        stack = cfn.describe_stacks(StackName="upline-dev")["Stacks"][0]
        yield stack, {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def test_the_stack_creates_and_each_function_is_pointed_at_what_it_made(deployed):
    stack, outputs = deployed
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    sqs, lam = boto3.client("sqs"), boto3.client("lambda")
    table = boto3.client("dynamodb").describe_table(TableName=outputs["TableName"])["Table"]
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == [g["IndexName"] for g in schema.GLOBAL_SECONDARY_INDEXES]
    boto3.client("s3").head_bucket(Bucket=outputs["ExportBucketName"])
    for name in ("api_handler", "settle_daily", "settlement_worker"):
        env = lam.get_function_configuration(FunctionName=f"upline-dev-{name}")["Environment"]["Variables"]
        assert env["UPLINE_TABLE"] == outputs["TableName"] == table["TableName"]
        assert env["UPLINE_EXPORT_BUCKET"] == outputs["ExportBucketName"]
        assert env["UPLINE_SETTLEMENT_QUEUE_URL"] == outputs["SettlementQueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=outputs["SettlementQueueUrl"], AttributeNames=["All"])["Attributes"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=outputs["SettlementDeadLetterQueueUrl"],
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"] == dlq_arn
    mappings = lam.list_event_source_mappings()["EventSourceMappings"]
    mapping, = [m for m in mappings if m["FunctionArn"].endswith(":function:upline-dev-settlement_worker")]
    assert mapping["EventSourceArn"] == attrs["QueueArn"]
    assert mapping["FunctionArn"].endswith(":function:upline-dev-settlement_worker")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert os.environ["AWS_DEFAULT_REGION"] in outputs["SettlementQueueUrl"]


def test_a_deployed_function_finds_its_secrets_where_its_environment_says(deployed):
    env = boto3.client("lambda").get_function_configuration(
        FunctionName="upline-dev-api_handler")["Environment"]["Variables"]
    assert not set(env) & set(secret_source.VARIABLES)  # what lambda:GetFunctionConfiguration shows: names only
    ssm = boto3.client("ssm")
    for name in secret_source.PARAMETERS:
        ssm.put_parameter(Name=f"/upline/dev/{name}", Value=f"value-of-{name}", Type="SecureString")
    values = secret_source.source({**env, "AWS_REGION": os.environ["AWS_DEFAULT_REGION"]}).values()
    assert values == {variable: f"value-of-{name}" for name, variable in secret_source.PARAMETERS.items()}
