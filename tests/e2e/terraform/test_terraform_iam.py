"""IAM and environment on what Terraform created (terraform/examples/minimal applied to a moto
server, the `terraform_stack` fixture shared with test_terraform_e2e.py): the boundaries moto
cannot see, checked with the applied values.

moto enforces no IAM. Each principal's calls are recorded, turned into the (action, resource ARN)
pairs AWS authorises (`support.iam_policy.needs`) and evaluated against the policies IAM holds
for that principal's role, found through the wiring Terraform applied (the Lambda's `Role`, the
job definition's `jobRoleArn` / `executionRoleArn`):

- both Lambdas: their work functions on the stack with the Lambda's environment as applied,
  recorded by botocore (`support.lambda_paths`);
- the job role: `python -m job run` as the registered job definition runs it, signing with the
  job role's own (assumed) credentials, recorded at the emulator's edge (its S3 traffic is
  pyarrow's C++ client, which botocore never sees);
- what AWS does with a role on our behalf: the Lambda service writing the function's logs and
  its dead letters, the awslogs driver writing a job's logs, ECS pulling the image.

And the environment contract: every deployment variable the CLI, the Lambdas and the container
read is set, from the applied values, where each of them reads it.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from support.clock import FakeClock
from support.iam_policy import (
    Arns,
    Call,
    ConditionalNeed,
    allowed,
    conditional_needs,
    refused,
)
from support.lambda_paths import ingest_paths, recording, state_paths
from support.paths import ROOT
from support.submitter_aws import SubmitterAws
from support.terraform_stack import REALTIME_MODEL_KEY, REGION, TerraformStack

from config import env, records
from config.status import JobStatus
from submitter import notify
from submitter.cli.target import terraform_variables
from submitter.settings import Settings
from submitter.submission import Runtime

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def stack(terraform_stack: TerraformStack) -> TerraformStack:
    terraform_stack.open_data_plane()
    return terraform_stack


@pytest.fixture(scope="module")
def arns(stack: TerraformStack) -> Arns:
    account = stack.client("sts").get_caller_identity()["Account"]
    return Arns(REGION, account)


def function(stack: TerraformStack, name: str) -> dict[str, Any]:
    output = stack.outputs[f"{name}_function_name"]
    return dict(stack.client("lambda").get_function_configuration(FunctionName=output))


def submitter_on(stack: TerraformStack, settings: Settings) -> SubmitterAws:
    clock = FakeClock()
    sleeps: list[float] = []
    runtime = Runtime(clock=clock, sleep=sleeps.append, wait_seconds=0.2, poll_seconds=0.01)
    return SubmitterAws(
        stack.client("s3"),
        stack.client("dynamodb"),
        stack.client("batch"),
        settings,
        runtime,
        clock,
        sleeps,
        stack.outputs["queue_arns"],
        jobs_bucket=stack.outputs["jobs_bucket"],
    )


def required(calls: list[Call], arns: Arns) -> set[ConditionalNeed]:
    """Every (action, resource, condition keys) the calls are authorised on."""
    return {need for call in calls for need in conditional_needs(call, arns)}


# ---------------------------------------------------------------------------------------------
# The Lambdas
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "must_include"),
    [
        (
            "ingest",
            {"s3:GetObjectVersion", "s3:PutObject", "dynamodb:PutItem", "batch:SubmitJob"}
            | {"batch:TagResource", "batch:ListJobs", "batch:TerminateJob"},
        ),
        (
            "state",
            {"dynamodb:Query", "dynamodb:UpdateItem", "batch:DescribeJobs"}
            | {"batch:DescribeJobQueues", "batch:DescribeComputeEnvironments"},
        ),
    ],
)
def test_every_call_of_the_lambda_is_allowed_on_its_resources(
    stack: TerraformStack, arns: Arns, name: str, must_include: set[str]
):
    configuration = function(stack, name)
    documents = stack.role_policies(configuration["Role"])
    settings = Settings.from_env(configuration["Environment"]["Variables"])
    aws = submitter_on(stack, settings)

    calls = ingest_paths(aws, stack.client) if name == "ingest" else state_paths(aws)
    need = required(calls, arns)

    # The paths reach the calls this test is about, on the stack's resources.
    assert must_include <= {action for action, *_ in need}
    resources = {resource for _, resource, _ in need}
    assert arns.table(stack.outputs["table_name"]) in resources
    if name == "ingest":
        assert set(arns.job_definitions(stack.outputs["job_definition_arn"])) <= resources
        assert stack.outputs["queue_arns"]["normal"] in resources
        assert arns.s3(stack.outputs["jobs_bucket"], "jobs/ok.json") in resources
    else:
        assert arns.table(stack.outputs["table_name"], records.STATUS_INDEX) in resources
    assert refused(documents, need) == []


def test_what_lambda_does_with_the_functions_roles_is_allowed(stack: TerraformStack, arns: Arns):
    """The Lambda service writes a function's logs to its log group and sends what still fails
    after its retries to the dead-letter queue, both as the function's role."""
    sqs = stack.client("sqs")
    queue = sqs.get_queue_attributes(
        QueueUrl=stack.outputs["dead_letter_queue_url"], AttributeNames=["QueueArn"]
    )
    for name in ("ingest", "state"):
        configuration = function(stack, name)
        documents = stack.role_policies(configuration["Role"])
        # moto returns no DeadLetterConfig: the stack's queue, where Terraform points both
        dead_letters = configuration.get("DeadLetterConfig", {}).get(
            "TargetArn", queue["Attributes"]["QueueArn"]
        )
        # Lambda's default group when the configuration names none (moto returns no LoggingConfig)
        default = f"/aws/lambda/{configuration['FunctionName']}"
        group = configuration.get("LoggingConfig", {}).get("LogGroup", default)
        groups = stack.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        assert group in {g["logGroupName"] for g in groups}
        stream = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
        need = {
            ("logs:CreateLogStream", arns.log_stream(group, stream)),
            ("logs:PutLogEvents", arns.log_stream(group, stream)),
            ("sqs:SendMessage", dead_letters),
        }
        assert refused(documents, need) == [], name


def test_the_upload_queue_can_feed_the_ingest_lambda(stack: TerraformStack):
    """The event source mapping polls the upload queue as the function's role (Lambda developer
    guide, "Lambda execution role permissions" for SQS: ReceiveMessage, DeleteMessage,
    GetQueueAttributes); S3 may send to the queue, for the jobs bucket only."""
    configuration = function(stack, "ingest")
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName=configuration["FunctionName"])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    queue = attributes["QueueArn"]
    documents = stack.role_policies(configuration["Role"])
    need = {(action, queue) for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage")}
    need.add(("sqs:GetQueueAttributes", queue))
    assert refused(documents, need) == []
    (statement,) = json.loads(attributes["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] in ("sqs:SendMessage", ["sqs:SendMessage"])
    bucket_arn = f"arn:aws:s3:::{stack.outputs['jobs_bucket']}"
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == bucket_arn


# ---------------------------------------------------------------------------------------------
# The real-time endpoint
# ---------------------------------------------------------------------------------------------


def test_the_endpoint_loads_its_model_with_its_role_and_nothing_more(
    stack: TerraformStack, arns: Arns, tmp_path: Path
):
    """The endpoint's init as the Lambda runs it: the applied environment's config, signed with
    the function role's own credentials; every call allowed, on the model object only."""
    from support import jobdata

    assert stack.recorder is not None
    configuration = function(stack, "realtime")
    documents = stack.role_policies(configuration["Role"])
    credentials = stack.role_credentials(configuration["Role"])
    jobdata.save_model(jobdata.fit(), tmp_path / "model.skops")
    bucket = stack.outputs["models_bucket"]
    stack.client("s3").upload_file(str(tmp_path / "model.skops"), bucket, REALTIME_MODEL_KEY)
    variables = configuration["Environment"]["Variables"]
    since = stack.recorder.mark()

    result = subprocess.run(
        [sys.executable, "-c", INIT],
        cwd=ROOT,
        env={
            **os.environ,
            **stack.aws_env(),
            env.ENDPOINT_CONFIG: variables[env.ENDPOINT_CONFIG],
            "AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": credentials["aws_session_token"],
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    need = required(stack.recorder.calls(credentials["aws_access_key_id"], since), arns)
    assert ("s3:GetObject", arns.s3(bucket, REALTIME_MODEL_KEY)) in {(a, r) for a, r, _ in need}
    assert refused(documents, need) == []
    # ... and nothing beyond: another object of the same bucket is refused.
    assert not allowed(documents, "s3:GetObject", arns.s3(bucket, "iam/model.skops"))
    # What Lambda does as the role: the function's logs.
    default = f"/aws/lambda/{configuration['FunctionName']}"  # moto returns no LoggingConfig
    group = configuration.get("LoggingConfig", {}).get("LogGroup", default)
    stream = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
    logs = {
        (a, arns.log_stream(group, stream)) for a in ("logs:CreateLogStream", "logs:PutLogEvents")
    }
    assert refused(documents, logs) == []


def test_the_function_url_requires_iam_auth(stack: TerraformStack):
    url = stack.client("lambda").get_function_url_config(
        FunctionName=stack.outputs["realtime_function_name"]
    )
    assert url["AuthType"] == "AWS_IAM"
    assert url["FunctionUrl"] == stack.outputs["realtime_function_url"]


# The handler's init (job/endpoint/handler.py) without the Lambda runtime around it.
INIT = """
import os
from job.endpoint.events import build_app
app = build_app(os.environ["BATCHSCORE_ENDPOINT_CONFIG"])
assert app.endpoint is not None, app.failure
"""


# ---------------------------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------------------------


def put_model_and_input(stack: TerraformStack, folder: Path) -> tuple[str, str]:
    from support import jobdata

    bucket = stack.outputs["models_bucket"]
    s3 = stack.client("s3")
    jobdata.save_model(jobdata.fit(), folder / "model.skops")
    s3.upload_file(str(folder / "model.skops"), bucket, "iam/model.skops")
    for path in jobdata.write_files(jobdata.table(600), folder / "in", ".parquet", 2):
        s3.upload_file(str(path), bucket, f"iam/input/{path.name}")
    return f"s3://{bucket}/iam/model.skops", f"s3://{bucket}/iam/input/"


def submit(aws: SubmitterAws, key: str, document: dict[str, Any]) -> dict[str, Any]:
    from support.events import s3_event

    version = aws.upload(key, document)
    [job] = aws.ingest(s3_event((key, version), bucket=aws.jobs_bucket))
    assert job.batch_job_id, job
    return aws.describe(job.batch_job_id)


def test_every_call_of_the_job_is_allowed_by_the_job_role(
    stack: TerraformStack, arns: Arns, tmp_path: Path
):
    assert stack.recorder is not None
    definition = stack.job_definition()
    role = definition["containerProperties"]["jobRoleArn"]
    documents = stack.role_policies(role)
    credentials = stack.role_credentials(role)
    ingest = function(stack, "ingest")
    aws = submitter_on(stack, Settings.from_env(ingest["Environment"]["Variables"]))
    model, data = put_model_and_input(stack, tmp_path)
    output = f"s3://{stack.outputs['results_bucket']}/iam/scores/"
    document: dict[str, Any] = {
        "name": "iam",
        "model": {"uri": model},
        "input": {"uri": data, "format": "parquet"},
        "output": {"uri": output, "passthrough": ["id"]},
    }

    # WHEN the job runs twice as the job role: a clean run, then one replacing its output
    since = stack.recorder.mark()
    as_role = {
        "AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"],
        "AWS_SESSION_TOKEN": credentials["aws_session_token"],
    }
    for key, overwrite in (("jobs/iam-1.json", False), ("jobs/iam-2.json", True)):
        changes = {"job_id": key[5:-5], "output": {**document["output"], "overwrite": overwrite}}
        submitted = submit(aws, key, {**document, **changes})
        result = stack.run_job(submitted, environment=as_role)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    # THEN every call it made is allowed by the job role, on the stack's resources
    calls = stack.recorder.calls(credentials["aws_access_key_id"], since)
    need = required(calls, arns)
    actions = {action for action, *_ in need}
    assert {"s3:GetObject", "s3:ListBucket", "s3:PutObject", "dynamodb:UpdateItem"} <= actions
    assert "s3:DeleteObject" in actions  # the overwrite removes the committed output
    resources = {resource for _, resource, _ in need}
    assert arns.s3(stack.outputs["models_bucket"], "iam/model.skops") in resources
    assert arns.table(stack.outputs["table_name"]) in resources
    assert refused(documents, need) == []


def test_what_batch_does_with_the_execution_role_is_allowed(stack: TerraformStack, arns: Arns):
    """ECS pulls the job's image and the awslogs driver writes its logs as the execution role."""
    container = stack.job_definition()["containerProperties"]
    documents = stack.role_policies(container["executionRoleArn"])
    options = container["logConfiguration"]["options"]
    stream = f"{options['awslogs-stream-prefix']}/default/0123456789abcdef0123456789abcdef"
    need = {
        ("logs:CreateLogStream", arns.log_stream(options["awslogs-group"], stream)),
        ("logs:PutLogEvents", arns.log_stream(options["awslogs-group"], stream)),
    }
    registry, _, repository = container["image"].partition("/")
    if ".dkr.ecr." in registry:  # a private ECR image: the registry login and the pull
        account = registry.split(".", 1)[0]
        name = repository.split("@", 1)[0].rsplit(":", 1)[0]
        repository_arn = f"arn:{arns.partition}:ecr:{REGION}:{account}:repository/{name}"
        need |= {("ecr:GetAuthorizationToken", "*")}
        need |= {
            (action, repository_arn)
            for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
        }
        need |= {("ecr:BatchCheckLayerAvailability", repository_arn)}
    assert ".dkr.ecr." in registry  # the example deploys the stack's own repository
    assert refused(documents, need) == []


def _finished_record(ddb: Any, table: str, job_id: str, status: JobStatus, **fields: Any) -> None:
    record = {"job_id": job_id, "name": "iam-drift", "status": JobStatus.SUBMITTED.value}
    records.create_record(ddb, table, record | {"queue": "normal"})
    records.advance(ddb, table, job_id, status, fields=fields, reason="for the IAM check")


@pytest.mark.parametrize("name", ["ingest", "state"])
def test_every_notification_call_is_allowed(stack: TerraformStack, arns: Arns, name: str):
    """What `submitter.notify` calls (the record's marker, drift's by-name query, SNS Publish
    with the topic's KMS key, PutEvents on the default bus), as each Lambda's role."""
    configuration = function(stack, name)
    variables = configuration["Environment"]["Variables"]
    documents = stack.role_policies(configuration["Role"])
    topic = variables[env.NOTIFY_TOPIC_ARN]  # as applied (the example passes on no new output)
    key = stack.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]["KmsMasterKeyId"]
    arns = dataclasses.replace(arns, topic_keys=((topic, key),))
    ddb, sns, events = (stack.client(service) for service in ("dynamodb", "sns", "events"))
    notifier = notify.Notifier.from_env(variables, {"sns": sns, "events": events}.__getitem__)
    table = variables[env.TABLE_NAME]
    summary = {"kind": "labels", "rows": 2, "missing": 0, "counts": {"0": 1, "1": 1}}
    prefix = f"iam-{name}-{records.utc_now().timestamp():.0f}"

    # The records as the other writers leave them (not this Lambda's calls).
    if name == "ingest":
        finished = [f"{prefix}-rejected"]
        _finished_record(ddb, table, finished[0], JobStatus.REJECTED)
    else:
        finished = [f"{prefix}-a", f"{prefix}-b"]  # two runs of one name: drift is computed
        for job_id in finished:
            _finished_record(ddb, table, job_id, JobStatus.SUCCEEDED, prediction_summary=summary)
        records.create_record(
            ddb,
            table,
            {"job_id": f"{prefix}-stuck", "name": "iam", "status": "SUBMITTED"}
            | {"batch_job_id": f"{prefix}-batch"},
            now=records.utc_now() - timedelta(days=1),
        )

    def runnable(_batch: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
        return {i: {"status": "RUNNABLE"} for i in ids}

    with recording(ddb, sns, events) as calls:
        sent = [notify.job_finished(ddb, table, job_id, notifier) for job_id in finished]
        if name == "state":
            stuck = notify.stuck_jobs(ddb, None, table, notifier, describe=runnable)
            assert f"{prefix}-stuck" in [d["job_id"] for d in stuck]
    assert all(sent)
    if name == "state":
        assert sent[1]["drift"]["previous_job_id"] == finished[0]

    need = required(calls, arns)
    actions = {action for action, *_ in need}
    assert {"sns:Publish", "kms:GenerateDataKey", "events:PutEvents"} <= actions
    if name == "state":
        assert arns.table(table, records.NAME_INDEX) in {r for _, r, _ in need}
    assert refused(documents, need) == []
    # ... and nothing beyond this stack's topic and the default bus
    assert not allowed(documents, "sns:Publish", topic + "-other")
    assert not allowed(documents, "events:PutEvents", arns.event_bus("custom"))


def test_the_checks_fail_on_a_policy_one_resource_short(stack: TerraformStack, arns: Arns):
    """The evaluator refuses what the applied policies grant once a resource is narrowed."""
    role = stack.job_definition()["containerProperties"]["jobRoleArn"]
    documents = stack.role_policies(role)
    output = arns.s3(stack.outputs["results_bucket"], "iam/scores/part-0.parquet")
    assert allowed(documents, "s3:PutObject", output)
    wrong = json.loads(
        json.dumps(documents).replace(
            arns.s3(stack.outputs["results_bucket"]), arns.s3(stack.outputs["models_bucket"])
        )
    )
    assert not allowed(wrong, "s3:PutObject", output)


# ---------------------------------------------------------------------------------------------
# The environment contract
# ---------------------------------------------------------------------------------------------

# Set by Batch in the container, by the emulator or by the user, never by Terraform.
NOT_DEPLOYMENT = {
    env.AWS_ENDPOINT_URL,
    env.AWS_ENDPOINT_URL_BATCH,
    env.LOCAL_STATE,
    env.TERRAFORM_DIR,
    env.BATCH_JOB_ID,
    env.BATCH_JOB_ATTEMPT,
    env.BATCH_ARRAY_INDEX,
    env.BATCH_QUEUE_NAME,
    env.BATCH_COMPUTE_ENVIRONMENT,
    env.REJECTED_PREFIX,  # tuning with a default that matches the policy's rejected/*
}


def read_variables(*paths: str) -> set[str]:
    """The config/env.py names the code under `paths` reads (every `env.NAME` it mentions)."""
    names = {value for name, value in vars(env).items() if name.isupper()}
    found = set()
    for relative in paths:
        path = ROOT / relative
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            for node in ast.walk(ast.parse(file.read_text())):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "env"
                ):
                    found.add(getattr(env, node.attr))
    assert found <= names
    return found - NOT_DEPLOYMENT


def test_every_variable_the_code_reads_is_set_where_it_runs(stack: TerraformStack):
    ingest, state = (
        function(stack, name)["Environment"]["Variables"] for name in ("ingest", "state")
    )
    container = stack.job_definition()["containerProperties"]
    job = {item["name"]: item["value"] for item in container["environment"]}
    assert stack.workdir is not None
    cli = terraform_variables(stack.workdir)  # the `environment` output, as the CLI reads it

    read = {
        "cli": read_variables("submitter/cli", "submitter/notify.py"),
        "ingest": read_variables(
            "submitter/settings.py", "submitter/ingest_handler.py", "submitter/notify.py"
        ),
        "state": read_variables("submitter/state_handler.py", "submitter/notify.py"),
        # The endpoint's handler lives in the job's package but runs in the realtime Lambda.
        "job": read_variables("job") - read_variables("job/endpoint"),
        "realtime": read_variables("job/endpoint"),
    }
    # The scan finds what each reads (else it would prove nothing).
    assert {env.TABLE_NAME, env.JOBS_BUCKET, env.LOG_GROUP, env.QUEUES} <= read["cli"]
    assert {env.JOB_DEFINITION, env.WRITE_BUCKETS, env.SUBMIT_LEASE_SECONDS} <= read["ingest"]
    notify_names = {env.NOTIFY_TOPIC_ARN, env.EVENT_BUS}
    notify_names |= {env.DRIFT_THRESHOLD, env.RUNNABLE_ALERT_SECONDS}
    assert read["state"] == {env.TABLE_NAME, env.PRICES} | notify_names
    assert notify_names <= read["ingest"]
    # The container applies the deployment's bucket rules too (docs/security.md, hole 5).
    assert {env.TABLE_NAME, env.ALLOWED_BUCKETS, env.WRITE_BUCKETS} <= read["job"]
    # The realtime Lambda reads its endpoint config only, and gets the stack's config.
    assert read.pop("realtime") == {env.ENDPOINT_CONFIG}
    realtime = function(stack, "realtime")["Environment"]["Variables"]
    assert json.loads(realtime[env.ENDPOINT_CONFIG])["output"]["passthrough"] == ["id"]
    where = {"cli": cli, "ingest": ingest, "state": state, "job": job}
    missing = {reader: sorted(read[reader] - set(where[reader])) for reader in read}
    assert missing == {reader: [] for reader in read}

    # ... with the applied values: the same deployment everywhere
    outputs = stack.outputs
    assert {v[env.TABLE_NAME] for v in where.values()} == {outputs["table_name"]}
    assert cli[env.JOBS_BUCKET] == outputs["jobs_bucket"]
    assert cli[env.LOG_GROUP] == outputs["job_log_group"]
    assert cli[env.LOG_GROUP] == container["logConfiguration"]["options"]["awslogs-group"]
    assert json.loads(cli[env.QUEUES]) == outputs["queue_arns"]
    assert cli[env.JOB_DEFINITION] == outputs["job_definition_arn"]
    assert {k: cli[k] for k in read["ingest"] if k in cli} == {k: ingest[k] for k in read["ingest"]}
    assert Settings.from_env(ingest).write_buckets == {outputs["results_bucket"]}
    assert Settings.from_env(ingest).allowed_buckets == set(outputs["allowed_buckets"])
