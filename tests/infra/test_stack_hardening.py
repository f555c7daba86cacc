"""What the scanner asked for and a careful operator keeps (issue 17, item 20): encryption of what
the stack records, access logs without personal data, tracing, dead letters for asynchronous
invocations, and bounded concurrency. infra/.checkov.yaml records what is not followed, and why."""
from __future__ import annotations

import json

from infra import stage as app_stage
from infra import telemetry


def _resources(packaged, type_: str) -> dict[str, dict]:
    return packaged.resources(type_)


def _key_statements(packaged) -> dict[str, dict]:
    key = packaged.template["Resources"][telemetry.KEY]
    return {st["Sid"]: st for st in key["Properties"]["KeyPolicy"]["Statement"]}


def test_every_log_group_and_the_alarm_topic_are_encrypted_with_the_stacks_rotated_key(packaged):
    key = packaged.template["Resources"][telemetry.KEY]
    assert key["Properties"]["EnableKeyRotation"] is True
    groups = _resources(packaged, "AWS::Logs::LogGroup")
    assert len(groups) == len(app_stage.functions(packaged.stage)) + 1  # each function's, and the API's access log
    for name, group in groups.items():
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [telemetry.KEY, "Arn"]}, name
        assert group["Properties"]["RetentionInDays"] > 0, name
    (topic,) = _resources(packaged, "AWS::SNS::Topic").values()
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [telemetry.KEY, "Arn"]}


def test_the_key_lets_cloudwatch_logs_use_it_only_for_this_stacks_log_groups(packaged):
    logs = _key_statements(packaged)["CloudWatchLogsForThisStacksLogGroupsOnly"]
    assert logs["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.${AWS::URLSuffix}"}}
    patterns = [p["Fn::Sub"] for p in logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]]
    prefix = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    assert patterns == [f"{prefix}/aws/lambda/upline-{packaged.stage}-*",
                        prefix + telemetry.access_log_group_name(packaged.stage)]
    functions = {r["Properties"]["FunctionName"] for r in _resources(packaged, "AWS::Serverless::Function").values()}
    assert all(name.startswith(f"upline-{packaged.stage}-") for name in functions)  # ...which the pattern covers


def test_cloudwatch_alarms_may_publish_to_the_encrypted_topic(packaged):
    # Without this grant an alarm changes state and its notification is dropped without a word.
    alarms = _key_statements(packaged)["CloudWatchAlarmsOfThisAccountPublishToTheTopic"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(alarms["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    for alarm in _resources(packaged, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_no_key_policy_statement_trusts_anyone_outside_the_account_and_its_services(packaged):
    for statement in _key_statements(packaged).values():
        assert statement["Principal"] != "*" and statement["Principal"] != {"AWS": "*"}


def test_the_api_writes_access_logs_without_ip_user_agent_or_identity(packaged):
    api = packaged.template["Resources"]["RestAPI"]["Properties"]
    setting = api["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": [telemetry.ACCESS_LOG_GROUP, "Arn"]}
    fields = json.loads(setting["Format"])
    assert "$context.requestId" in fields.values()
    assert not [v for v in fields.values() if "$context.identity" in v], "no raw IP or user agent is stored"
    # ...and it survives the SAM transform onto the stage CloudFormation creates.
    (stage,) = [r["Properties"] for r in packaged.transformed()["Resources"].values()
                if r["Type"] == "AWS::ApiGateway::Stage"]
    assert stage["AccessLogSetting"] == setting and stage["TracingEnabled"] is True


def test_api_gateway_may_write_logs_and_that_account_setting_outlives_the_stack(packaged):
    r = packaged.template["Resources"]
    account, role = r[telemetry.API_ACCOUNT], r[telemetry.API_LOG_ROLE]
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": [telemetry.API_LOG_ROLE, "Arn"]}
    assert account["DeletionPolicy"] == role["DeletionPolicy"] == "Retain"
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == \
        {"Service": "apigateway.amazonaws.com"}
    # The stage with access logging is created only after the account can log.
    assert telemetry.API_ACCOUNT in r["RestAPI"]["DependsOn"]


def test_the_api_and_every_function_are_traced_with_xray(packaged):
    assert packaged.template["Resources"]["RestAPI"]["Properties"]["TracingEnabled"] is True
    for fn in app_stage.functions(packaged.stage):
        assert packaged.template["Resources"][fn.logical_id]["Properties"]["Tracing"] == "Active", fn.name
        role = packaged.template["Resources"][fn.role_logical_id]["Properties"]["Policies"][0]["PolicyDocument"]
        actions = {a for st in role["Statement"] if "Action" in st for a in st["Action"]}
        assert {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} <= actions, fn.name


def test_every_asynchronously_invoked_function_has_a_dead_letter_queue(packaged):
    asynchronous = [fn for fn in app_stage.functions(packaged.stage) if fn.asynchronous]
    assert {fn.name for fn in asynchronous} >= {"settle_daily", "members_daily"}
    for fn in asynchronous:
        props = packaged.template["Resources"][fn.logical_id]["Properties"]
        assert props["DeadLetterQueue"] == {"Type": "SQS",
                                            "TargetArn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}}
        role = packaged.template["Resources"][fn.role_logical_id]["Properties"]["Policies"][0]["PolicyDocument"]
        assert {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Sid": "DeadLetterForFailedRuns",
                "Resource": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}} in role["Statement"], fn.name
    # ...and the transform turns it into the function's DeadLetterConfig.
    created = packaged.transformed()["Resources"]
    for fn in asynchronous:
        assert created[fn.logical_id]["Properties"]["DeadLetterConfig"] == \
            {"TargetArn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}}


def test_every_queue_is_encrypted_at_rest(packaged):
    queues = _resources(packaged, "AWS::SQS::Queue")
    assert set(queues) == {"SettlementQueue", "SettlementDeadLetterQueue", "ScheduleDeadLetterQueue",
                           "StreamDeadLetterQueue", "WebhookQueue", "WebhookDeadLetterQueue"}
    for name, queue in queues.items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, name


def test_every_function_reserves_its_concurrency_unless_the_account_cannot(packaged):
    t = packaged.template
    assert t["Parameters"]["ReserveConcurrency"]["Default"] == "true"
    assert t["Conditions"]["ReserveConcurrency"] == {"Fn::Equals": [{"Ref": "ReserveConcurrency"}, "true"]}
    for fn in app_stage.functions(packaged.stage):
        reserved = t["Resources"][fn.logical_id]["Properties"]["ReservedConcurrentExecutions"]
        assert reserved == {"Fn::If": ["ReserveConcurrency", fn.reserved_concurrency, {"Ref": "AWS::NoValue"}]}
        assert fn.reserved_concurrency >= 1, fn.name
    assert app_stage.function(packaged.stage, "settle_daily").reserved_concurrency == 1  # one run at a time


def test_the_worker_never_polls_more_batches_than_it_may_run_at_once(packaged):
    worker = app_stage.function(packaged.stage, "settlement_worker")
    (event,) = packaged.template["Resources"][worker.logical_id]["Properties"]["Events"].values()
    assert event["Properties"]["ScalingConfig"] == {"MaximumConcurrency": worker.reserved_concurrency}
    (mapping,) = [r["Properties"] for r in packaged.transformed()["Resources"].values()
                  if r["Type"] == "AWS::Lambda::EventSourceMapping"
                  and r["Properties"]["FunctionName"] == {"Ref": worker.logical_id}]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": worker.reserved_concurrency}
