"""The packaged CloudFormation (chalice package + infra/'s merge template), read as AWS would get it."""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

import pytest

from chalicelib import secret_source
from chalicelib.store import schema
from infra import stage as app_stage
from infra.stage import ROOT

SCOPED_SERVICES = ("dynamodb:", "s3:", "sqs:")
STACK_DATA_RESOURCES = ("UplineTable", "ExportBucket", "SettlementQueue", "SettlementDeadLetterQueue",
                        "ScheduleDeadLetterQueue", "StreamDeadLetterQueue", "WebhookQueue", "WebhookDeadLetterQueue")


def _statements(document: dict) -> Iterator[dict]:
    """Every statement, including both branches of an Fn::If (conditional statements)."""
    for st in document.get("Statement", []):
        if isinstance(st, dict) and "Fn::If" in st:
            yield from (b for b in st["Fn::If"][1:] if isinstance(b, dict) and "Effect" in b)
        else:
            yield st


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _policy_documents(template: dict) -> Iterator[tuple[str, dict]]:
    for name, res in template["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            for p in props.get("Policies", []):
                yield name, p["PolicyDocument"]
        elif res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield name, props["PolicyDocument"]


def broad_data_grants(template: dict) -> list[tuple[str, str, Any]]:
    """(policy owner, action, resource) where a DynamoDB/S3/SQS action is allowed on "*" or on a
    resource that is not one of this stack's own data resources."""
    found = []
    for owner, doc in _policy_documents(template):
        for st in _statements(doc):
            if st.get("Effect") != "Allow":
                continue
            actions = [a for a in _listed(st.get("Action", [])) if a == "*" or a.lower().startswith(SCOPED_SERVICES)]
            for action in actions:
                for resource in _listed(st.get("Resource", [])):
                    text = json.dumps(resource)
                    if resource == "*" or not any(name in text for name in STACK_DATA_RESOURCES):
                        found.append((owner, action, resource))
    return found


def _actions(template: dict, role: str) -> set[str]:
    docs = [d for owner, d in _policy_documents(template) if owner == role]
    return {a for d in docs for st in _statements(d) for a in _listed(st["Action"])}


def _function(packaged, name: str) -> dict:
    return packaged.template["Resources"][app_stage.function(packaged.stage, name).logical_id]


# --- the table -------------------------------------------------------------------------------

def test_the_packaged_table_has_exactly_the_codes_keys_and_index(packaged):
    props = packaged.template["Resources"]["UplineTable"]["Properties"]
    assert props["KeySchema"] == schema.KEY_SCHEMA
    assert props["AttributeDefinitions"] == schema.ATTRIBUTE_DEFINITIONS
    assert props["GlobalSecondaryIndexes"] == schema.GLOBAL_SECONDARY_INDEXES


def test_the_table_is_on_demand_with_point_in_time_recovery_encryption_and_ttl(packaged):
    table = packaged.template["Resources"]["UplineTable"]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True and props["SSESpecification"]["SSEType"] == "KMS"
    assert props["SSESpecification"]["KMSMasterKeyId"] == \
        {"Fn::If": ["UseCustomerKey", {"Ref": "KmsKeyArn"}, {"Ref": "AWS::NoValue"}]}
    assert props["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    assert table["DeletionPolicy"] == "Retain"
    assert props["DeletionProtectionEnabled"] is (packaged.stage == "prod")


def test_the_customer_managed_key_is_optional_and_used_only_when_given(packaged):
    t = packaged.template
    assert t["Parameters"]["KmsKeyArn"]["Default"] == ""
    assert t["Conditions"]["UseCustomerKey"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "KmsKeyArn"}, ""]}]}
    pattern = re.compile(t["Parameters"]["KmsKeyArn"]["AllowedPattern"])
    assert pattern.match("") and pattern.match("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert not pattern.match("alias/aws/dynamodb")


# --- the export bucket -----------------------------------------------------------------------

def test_the_export_bucket_is_private_versioned_encrypted_and_ages_out(packaged):
    props = packaged.template["Resources"]["ExportBucket"]["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    with_key, without = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["Fn::If"][1:]
    assert with_key["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert without["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    rule, = props["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
    deny, = packaged.template["Resources"]["ExportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# --- the settlement queue --------------------------------------------------------------------

def test_the_settlement_queue_redrives_to_its_dead_letter_queue(packaged):
    queue = packaged.template["Resources"]["SettlementQueue"]["Properties"]
    dlq = packaged.template["Resources"]["SettlementDeadLetterQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["SettlementDeadLetterQueue", "Arn"]}
    assert 1 <= queue["RedrivePolicy"]["maxReceiveCount"] <= 10
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]  # a message outlives its source
    assert queue["SqsManagedSseEnabled"] is True and dlq["SqsManagedSseEnabled"] is True


def test_the_queue_hides_a_message_for_at_least_six_times_the_workers_timeout(packaged):
    worker = _function(packaged, "settlement_worker")["Properties"]
    queue = packaged.template["Resources"]["SettlementQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]


def test_the_worker_consumes_this_stacks_queue_and_reports_partial_batch_failures(packaged):
    events = _function(packaged, "settlement_worker")["Properties"]["Events"]
    (name, event), = events.items()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::Sub": "${SettlementQueue.Arn}"}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # ...and it survives the SAM transform into the event source mapping CloudFormation creates.
    worker = {"Ref": app_stage.function(packaged.stage, "settlement_worker").logical_id}
    mappings = [r["Properties"] for r in packaged.transformed()["Resources"].values()
                if r["Type"] == "AWS::Lambda::EventSourceMapping" and r["Properties"]["FunctionName"] == worker]
    assert len(mappings) == 1
    assert mappings[0]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mappings[0]["EventSourceArn"] == {"Fn::Sub": "${SettlementQueue.Arn}"}
    assert mappings[0]["FunctionName"] == {"Ref": app_stage.function(packaged.stage, "settlement_worker").logical_id}


def test_the_webhook_queue_redrives_to_its_dead_letter_queue_and_outlasts_the_retry_window(packaged):
    queue = packaged.template["Resources"]["WebhookQueue"]["Properties"]
    dlq = packaged.template["Resources"]["WebhookDeadLetterQueue"]["Properties"]
    worker = _function(packaged, "webhook_worker")["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]}
    assert 1 <= queue["RedrivePolicy"]["maxReceiveCount"] <= 10
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"] > 24 * 3600
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]
    assert queue["SqsManagedSseEnabled"] is True and dlq["SqsManagedSseEnabled"] is True


def test_the_webhook_worker_consumes_this_stacks_webhook_queue_and_reports_partial_batch_failures(packaged):
    worker = {"Ref": app_stage.function(packaged.stage, "webhook_worker").logical_id}
    mappings = [r["Properties"] for r in packaged.transformed()["Resources"].values()
                if r["Type"] == "AWS::Lambda::EventSourceMapping" and r["Properties"]["FunctionName"] == worker]
    assert len(mappings) == 1
    assert mappings[0]["EventSourceArn"] == {"Fn::Sub": "${WebhookQueue.Arn}"}
    assert mappings[0]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_outbound_events_reader_reads_this_stacks_table_stream_and_parks_failed_batches(packaged):
    reader = {"Ref": app_stage.function(packaged.stage, "outbound_events").logical_id}
    mappings = [r["Properties"] for r in packaged.transformed()["Resources"].values()
                if r["Type"] == "AWS::Lambda::EventSourceMapping" and r["Properties"]["FunctionName"] == reader]
    assert len(mappings) == 1
    assert mappings[0]["EventSourceArn"] == {"Fn::GetAtt": ["UplineTable", "StreamArn"]}
    assert mappings[0]["DestinationConfig"]["OnFailure"]["Destination"] == \
        {"Fn::GetAtt": ["StreamDeadLetterQueue", "Arn"]}
    streams = [r for r in packaged.transformed()["Resources"].values()
               if r["Type"] == "AWS::Lambda::EventSourceMapping"
               and r["Properties"].get("EventSourceArn") == {"Fn::GetAtt": ["UplineTable", "StreamArn"]}]
    assert len(streams) == 2  # DynamoDB Streams serves at most two readers per shard without throttling


# --- configuration ---------------------------------------------------------------------------

def test_every_function_is_told_the_names_of_this_stacks_resources(packaged):
    t = packaged.template["Resources"]
    queue_name = t["SettlementQueue"]["Properties"]["QueueName"]
    for fn in app_stage.functions(packaged.stage):
        env = t[fn.logical_id]["Properties"]["Environment"]["Variables"]
        assert env["UPLINE_TABLE"] == t["UplineTable"]["Properties"]["TableName"] == f"upline-{packaged.stage}"
        assert env["UPLINE_EXPORT_BUCKET"] == t["ExportBucket"]["Properties"]["BucketName"]
        assert env["UPLINE_SETTLEMENT_QUEUE_URL"]["Fn::Sub"].endswith(f"${{AWS::AccountId}}/{queue_name}")
        assert queue_name == f"upline-{packaged.stage}-settlement"


def test_no_function_environment_carries_a_secret_or_a_deploy_time_ssm_reference(packaged):
    assert "{{resolve:" not in json.dumps(packaged.template)  # nowhere, not only in functions
    for fn in app_stage.functions(packaged.stage):
        env = _function(packaged, fn.name)["Properties"]["Environment"]["Variables"]
        assert not set(env) & set(secret_source.VARIABLES), fn.name
        assert env[secret_source.PATH_VARIABLE] == f"/upline/{packaged.stage}"  # names only: values are read at run time
    functions = [r for r in packaged.transformed()["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == len(app_stage.functions(packaged.stage))
    for fn in functions:  # ...and so it stays after the SAM transform, in what CloudFormation creates
        assert not set(fn["Properties"]["Environment"]["Variables"]) & set(secret_source.VARIABLES)


def test_the_repository_holds_no_secret_value():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    environments = [config.get("environment_variables", {})] + \
        [stage.get("environment_variables", {}) for stage in config["stages"].values()]
    environments += [fn.get("environment_variables", {}) for fn in config.get("lambda_functions", {}).values()]
    assert not [name for env in environments for name in env if name in secret_source.VARIABLES]


# --- IAM -------------------------------------------------------------------------------------

def test_no_iam_statement_grants_dynamodb_s3_or_sqs_actions_beyond_this_stacks_resources(packaged):
    assert broad_data_grants(packaged.template) == []


def test_the_star_check_catches_a_wildcard_grant():
    template = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {
        "Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*"},
                      {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:*:*:other"},
                      {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}}]}}}}
    assert [(a, r) for _, a, r in broad_data_grants(template)] == \
        [("dynamodb:GetItem", "*"), ("sqs:SendMessage", "arn:aws:sqs:*:*:other")]


def test_each_function_has_its_own_role_with_the_written_policy_and_no_generated_one(packaged):
    assert json.loads((ROOT / ".chalice" / "config.json").read_text())["autogen_policy"] is False
    roles = set()
    for fn in app_stage.functions(packaged.stage):
        role = packaged.template["Resources"][fn.logical_id]["Properties"]["Role"]
        assert role == {"Fn::GetAtt": [fn.role_logical_id, "Arn"]}
        roles.add(fn.role_logical_id)
        written = json.loads((ROOT / ".chalice" / f"policy-{fn.name}.json").read_text())
        policies = packaged.template["Resources"][fn.role_logical_id]["Properties"]["Policies"]
        assert [p["PolicyDocument"] for p in policies] == [written]
    assert len(roles) == len(app_stage.functions(packaged.stage))


def test_each_function_may_only_do_what_its_job_needs(packaged):
    t = packaged.template
    role = {fn.name: fn.role_logical_id for fn in app_stage.functions(packaged.stage)}
    api, daily, worker = (_actions(t, role[n]) for n in ("api_handler", "settle_daily", "settlement_worker"))
    # The API runs settlements by hand (fanning out, writing exports), makes the payout file on
    # approval, and serves and presigns downloads.
    assert sorted(a for a in api if a.startswith(("s3:", "sqs:"))) == ["s3:GetObject", "s3:PutObject",
                                                                       "sqs:SendMessage"]
    assert [a for a in daily if a.startswith(("s3:", "sqs:"))] == ["sqs:SendMessage"]
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} <= worker
    assert "sqs:SendMessage" not in worker and "s3:DeleteObject" not in worker
    for actions in (api, daily, worker):
        assert not [a for a in actions if a.endswith(("*", ":Scan", ":DeleteTable", ":CreateTable"))]
        assert "logs:CreateLogGroup" not in actions  # the stack creates each log group with its retention


def test_each_function_may_read_only_its_stages_secrets_and_decrypt_them_only_through_ssm(packaged):
    # ${Stage} can only be this stage (its one allowed value), and the functions read under that path.
    assert packaged.template["Parameters"]["Stage"]["AllowedValues"] == [packaged.stage]
    assert app_stage.environment(packaged.stage)[secret_source.PATH_VARIABLE] == f"/upline/{packaged.stage}"
    parameters = {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/upline/${Stage}/*"}
    for fn in app_stage.functions(packaged.stage):
        statements = [st for owner, d in _policy_documents(packaged.template) if owner == fn.role_logical_id
                      for st in _statements(d)]
        reads = [(st["Action"], st["Resource"]) for st in statements
                 if any(a.startswith("ssm:") for a in _listed(st["Action"]))]
        assert reads == [(["ssm:GetParameters"], parameters)], fn.name
        (decrypt,) = [st for st in statements if "kms:Decrypt" in _listed(st["Action"])
                      and "kms:EncryptionContext:PARAMETER_ARN" in json.dumps(st)]
        assert decrypt["Action"] == ["kms:Decrypt"]
        assert decrypt["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"}
        assert decrypt["Condition"] == {
            "StringEquals": {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.${AWS::URLSuffix}"}},
            "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": parameters}}


# --- alarms ----------------------------------------------------------------------------------

def _alarms(packaged) -> list[dict]:
    return [a["Properties"] for a in packaged.resources("AWS::CloudWatch::Alarm").values()]


def test_every_function_has_an_errors_and_a_throttles_alarm(packaged):
    watched = {(a["MetricName"], a["Dimensions"][0]["Value"]["Ref"]) for a in _alarms(packaged)
               if a["Namespace"] == "AWS/Lambda"}
    for fn in app_stage.functions(packaged.stage):
        assert {("Errors", fn.logical_id), ("Throttles", fn.logical_id)} <= watched


def test_a_message_in_either_dead_letter_queue_raises_an_alarm(packaged):
    watched = {}
    for a in _alarms(packaged):
        if a["Namespace"] == "AWS/SQS":
            (dimension,) = a["Dimensions"]
            assert dimension["Name"] == "QueueName"
            watched[dimension["Value"]["Fn::GetAtt"][0]] = a
    assert set(watched) == {"SettlementDeadLetterQueue", "ScheduleDeadLetterQueue", "WebhookDeadLetterQueue"}
    for dlq in watched.values():
        assert (dlq["MetricName"], dlq["ComparisonOperator"], dlq["Threshold"]) == \
            ("ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0)


def test_a_missing_settlement_and_a_failed_reconciliation_raise_alarms(packaged):
    by_metric = {a["MetricName"]: a for a in _alarms(packaged) if a["Namespace"] == "Upline"}
    missed = by_metric["SettlementCompleted"]
    assert (missed["ComparisonOperator"], missed["Threshold"], missed["TreatMissingData"]) == \
        ("LessThanThreshold", 1, "breaching")  # no completion at all is exactly the failure to catch
    assert missed["EvaluationPeriods"] == {"Ref": "SettlementDeadlineHours"} and missed["Period"] == 3600
    failed = by_metric["ReconciliationFailed"]
    assert (failed["ComparisonOperator"], failed["Threshold"]) == ("GreaterThanThreshold", 0)
    for alarm in _alarms(packaged):
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize("stage", ["local", "staging"])
def test_only_dev_and_prod_are_packaged_for_aws(stage):
    with pytest.raises(ValueError):
        app_stage.functions(stage)


def test_the_api_5xx_alarm_watches_the_api_and_stage_this_stack_creates(packaged):
    api, = [a for a in _alarms(packaged) if a["Namespace"] == "AWS/ApiGateway"]
    created = packaged.transformed()["Resources"]
    rest_api, = [r["Properties"] for r in created.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    stage, = [r["Properties"] for r in created.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert {d["Name"]: d["Value"] for d in api["Dimensions"]} == \
        {"ApiName": rest_api["Name"], "Stage": stage["StageName"]}
    assert api["MetricName"] == "5XXError"


def test_a_function_without_a_written_policy_stops_packaging_with_what_to_add(monkeypatch):
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    del config["lambda_functions"]["settlement_worker"]["iam_policy_file"]
    monkeypatch.setattr(app_stage, "config_from_disk", lambda: config)
    with pytest.raises(ValueError, match=r"policy-settlement_worker\.json"):
        app_stage.functions("dev")
