"""End to end: `terraform apply` of terraform/examples/minimal (what the README applies) to a moto
server, then what it created, read back through the AWS APIs and the outputs the README reads, and
the pipeline driven on it (upload -> ingest handler -> the job as the registered job definition
runs it -> SUCCEEDED record, output, manifest)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from support.events import s3_put_event
from support.terraform_stack import REGION, TerraformStack, terraform
from typer.testing import CliRunner

from config import env, records, retry
from config.deployment import DEFAULT_QUEUE_PRIORITIES
from submitter.cli.entrypoint import app as cli_app
from submitter.cli.target import terraform_variables
from submitter.local.ingest_queue import queue_event, queue_message

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


# ---------------------------------------------------------------------------------------------
# What Terraform created
# ---------------------------------------------------------------------------------------------


def test_queues_have_their_priorities_and_compute_order(terraform_stack: TerraformStack):
    batch = terraform_stack.client("batch")
    environments = {
        ce["computeEnvironmentArn"]: ce
        for ce in batch.describe_compute_environments()["computeEnvironments"]
    }
    arns = list(terraform_stack.outputs["queue_arns"].values())
    queues = {
        queue["jobQueueName"]: queue
        for queue in batch.describe_job_queues(jobQueues=arns)["jobQueues"]
    }

    assert {name.removeprefix("batchscore-"): q["priority"] for name, q in queues.items()} == (
        DEFAULT_QUEUE_PRIORITIES
    )
    order = {
        name.removeprefix("batchscore-"): [
            environments[entry["computeEnvironment"]]["computeResources"]["type"]
            for entry in sorted(queue["computeEnvironmentOrder"], key=lambda e: e["order"])
        ]
        for name, queue in queues.items()
    }
    assert order == {"high": ["EC2", "SPOT"], "normal": ["SPOT", "EC2"], "low": ["SPOT"]}
    spot = next(ce for ce in environments.values() if ce["computeResources"]["type"] == "SPOT")
    assert spot["computeResources"]["allocationStrategy"] == "SPOT_PRICE_CAPACITY_OPTIMIZED"
    assert all(ce["computeResources"]["minvCpus"] == 0 for ce in environments.values())


def test_job_definition_runs_batch_mode_with_the_shared_retry_strategy(
    terraform_stack: TerraformStack,
):
    batch = terraform_stack.client("batch")
    (definition,) = batch.describe_job_definitions(
        jobDefinitions=[terraform_stack.outputs["job_definition_arn"]]
    )["jobDefinitions"]
    container = definition["containerProperties"]

    assert container["command"] == [
        *("python", "-m", "job", "run", "--job-id", "Ref::job_id"),
        *("--config-sha256", "Ref::config_sha256"),
    ]
    # The provider sends actions in lower case; Batch reads them case-insensitively.
    rules = [
        {**rule, "action": rule["action"].upper()}
        for rule in definition["retryStrategy"]["evaluateOnExit"]
    ]
    assert {**definition["retryStrategy"], "evaluateOnExit": rules} == retry.retry_strategy()
    assert {item["name"]: item["value"] for item in container["environment"]}[env.TABLE_NAME] == (
        terraform_stack.outputs["table_name"]
    )
    assert definition["timeout"]["attemptDurationSeconds"] == 3600


def test_jobs_bucket_triggers_ingest_for_job_configs_only(terraform_stack: TerraformStack):
    s3 = terraform_stack.client("s3")
    bucket = terraform_stack.outputs["jobs_bucket"]
    notification = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert "LambdaFunctionConfigurations" not in notification
    (config,) = notification["QueueConfigurations"]

    # Through the upload queue (terraform/ingest_queue.tf), which feeds the ingest Lambda
    ingest = terraform_stack.outputs["ingest_function_name"]
    sqs = terraform_stack.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=ingest)["QueueUrl"]  # both are "<name>-ingest"
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert config["QueueArn"] == attributes["QueueArn"]
    assert int(attributes["VisibilityTimeout"]) == 6 * 60
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 5
    (mapping,) = terraform_stack.client("lambda").list_event_source_mappings(
        EventSourceArn=attributes["QueueArn"]
    )["EventSourceMappings"]
    assert mapping["FunctionArn"].endswith(f":function:{ingest}")
    assert config["Events"] == ["s3:ObjectCreated:*"]
    assert {r["Name"].lower(): r["Value"] for r in config["Filter"]["Key"]["FilterRules"]} == {
        "prefix": "jobs/",
        "suffix": ".json",
    }


@pytest.mark.parametrize("output", ["jobs_bucket", "models_bucket", "results_bucket"])
def test_buckets_are_private_encrypted_versioned_and_tls_only(
    terraform_stack: TerraformStack, output: str
):
    s3 = terraform_stack.client("s3")
    bucket = terraform_stack.outputs[output]

    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_table_matches_the_records_contract(terraform_stack: TerraformStack):
    ddb = terraform_stack.client("dynamodb")
    table = terraform_stack.outputs["table_name"]
    description = ddb.describe_table(TableName=table)["Table"]
    expected = records.table_definition(table)

    assert description["KeySchema"] == expected["KeySchema"]
    assert sorted(description["AttributeDefinitions"], key=str) == sorted(
        expected["AttributeDefinitions"], key=str
    )
    indexes = {index["IndexName"]: index for index in description["GlobalSecondaryIndexes"]}
    assert set(indexes) == {records.STATUS_INDEX, records.NAME_INDEX}
    for expected_index in expected["GlobalSecondaryIndexes"]:
        index = indexes[expected_index["IndexName"]]
        assert {k: index[k] for k in expected_index} == expected_index
    assert ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": records.TTL_ATTRIBUTE,
    }
    backups = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert description["SSEDescription"]["Status"] == "ENABLED"


def test_lambdas_and_state_rule_are_wired(terraform_stack: TerraformStack):
    lam = terraform_stack.client("lambda")
    events = terraform_stack.client("events")
    ingest = lam.get_function_configuration(
        FunctionName=terraform_stack.outputs["ingest_function_name"]
    )
    state = lam.get_function_configuration(
        FunctionName=terraform_stack.outputs["state_function_name"]
    )

    assert ingest["Handler"] == "submitter.ingest_handler.handler"
    assert state["Handler"] == "submitter.state_handler.handler"
    variables = ingest["Environment"]["Variables"]
    assert json.loads(variables[env.QUEUES]) == terraform_stack.outputs["queue_arns"]
    assert variables[env.JOB_DEFINITION] == terraform_stack.outputs["job_definition_arn"]
    assert variables[env.ALLOWED_BUCKETS].split(",") == terraform_stack.outputs["allowed_buckets"]

    rule = events.describe_rule(Name="batchscore-job-state")
    pattern = json.loads(rule["EventPattern"])
    assert pattern["source"] == ["aws.batch"]
    assert pattern["detail-type"] == ["Batch Job State Change"]
    assert sorted(pattern["detail"]["jobQueue"]) == sorted(
        terraform_stack.outputs["queue_arns"].values()
    )
    # content filtering as applied: job-state-events.json with the queues merged in
    assert pattern["detail"]["status"] == ["RUNNING", "SUCCEEDED", "FAILED"]
    assert {"status": ["FAILED"]} in pattern["detail"]["$or"]
    (target,) = events.list_targets_by_rule(Rule="batchscore-job-state")["Targets"]
    assert target["Arn"] == state["FunctionArn"]


def test_the_outputs_the_readme_reads_come_from_the_example(
    terraform_stack: TerraformStack, monkeypatch: pytest.MonkeyPatch
):
    """README "Deploy to AWS": `terraform output -raw ecr_repository_url` in the example, then
    `batchscore` with BATCHSCORE_TERRAFORM_DIR=$PWD (its `environment` and `job_log_group`)."""
    assert terraform_stack.workdir is not None
    assert terraform_stack.workdir.name == "minimal"
    url = terraform(
        terraform_stack.workdir, terraform_stack.env or {}, "output", "-raw", "ecr_repository_url"
    )
    (repository,) = terraform_stack.client("ecr").describe_repositories()["repositories"]
    assert url == repository["repositoryUri"]

    variables = terraform_variables(terraform_stack.workdir)
    assert variables[env.TABLE_NAME] == terraform_stack.outputs["table_name"]
    assert variables[env.LOG_GROUP] == terraform_stack.outputs["job_log_group"]
    for name in (env.TABLE_NAME, env.QUEUES, env.JOBS_BUCKET, env.JOB_DEFINITION):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(env.TERRAFORM_DIR, str(terraform_stack.workdir))
    monkeypatch.setenv("AWS_ENDPOINT_URL", terraform_stack.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # A shell in another region: the deployment's outputs say where the stack is.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    assert variables["AWS_DEFAULT_REGION"] == REGION
    result = CliRunner().invoke(cli_app, ["list", "--json"])
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------------------------------------
# The pipeline on what Terraform created
# ---------------------------------------------------------------------------------------------

JOB_ID = "e2e-terraform-1"


def lambda_context(name: str) -> Any:
    return SimpleNamespace(
        function_name=name,
        function_version="$LATEST",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:{name}",
        memory_limit_in_mb=256,
        aws_request_id="e2e-request",
        log_group_name=f"/aws/lambda/{name}",
        log_stream_name="e2e",
        get_remaining_time_in_millis=lambda: 60_000,
    )


def upload_model_and_input(terraform_stack: TerraformStack) -> tuple[str, str, int]:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from skops.io import dump

    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"id": range(200), "a": rng.normal(size=200), "b": rng.normal(size=200)})
    model = LogisticRegression().fit(frame[["a", "b"]], (frame["a"] > frame["b"]).astype(int))
    model_file = io.BytesIO()
    dump(model, model_file)
    data_file = io.BytesIO()
    frame.to_parquet(data_file, index=False)

    s3 = terraform_stack.client("s3")
    bucket = terraform_stack.outputs["models_bucket"]
    s3.put_object(Bucket=bucket, Key="models/e2e.skops", Body=model_file.getvalue())
    s3.put_object(Bucket=bucket, Key="inputs/e2e/part-0.parquet", Body=data_file.getvalue())
    return f"s3://{bucket}/models/e2e.skops", f"s3://{bucket}/inputs/e2e/part-0.parquet", len(frame)


def test_pipeline_runs_on_what_terraform_created(
    terraform_stack: TerraformStack,
    monkeypatch: pytest.MonkeyPatch,
    cold_start: Callable[[str], ModuleType],
):
    terraform_stack.open_data_plane()  # the bucket policies and notification checked above
    model_uri, input_uri, rows = upload_model_and_input(terraform_stack)
    output_uri = f"s3://{terraform_stack.outputs['results_bucket']}/scores/e2e/"
    document = {
        "name": "e2e-terraform",
        "job_id": JOB_ID,
        "priority": "high",
        "model": {"uri": model_uri},
        "input": {"uri": input_uri, "features": ["a", "b"]},
        "output": {"uri": output_uri, "passthrough": ["id"]},
    }
    s3 = terraform_stack.client("s3")
    key = "jobs/e2e terraform.json"  # a space: the event carries it URL-encoded
    put = s3.put_object(
        Bucket=terraform_stack.outputs["jobs_bucket"], Key=key, Body=json.dumps(document).encode()
    )

    # GIVEN the ingest Lambda's environment exactly as Terraform configured it
    configuration = terraform_stack.client("lambda").get_function_configuration(
        FunctionName=terraform_stack.outputs["ingest_function_name"]
    )
    aws = {
        "AWS_ENDPOINT_URL": terraform_stack.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    for name, value in {**configuration["Environment"]["Variables"], **aws}.items():
        monkeypatch.setenv(name, value)
    ingest = cold_start("submitter.ingest_handler")  # its clients are made at import

    # WHEN S3's notification reaches the handler through the upload queue
    notification = s3_put_event(
        key,
        put.get("VersionId"),
        terraform_stack.outputs["jobs_bucket"],
        size=len(json.dumps(document)),
        etag=put["ETag"].strip('"'),
        region=REGION,
        configuration_id="e2e",
        event_time="2026-01-01T00:00:00.000Z",
    )
    event = queue_event(
        [
            queue_message(
                notification, queue_arn=f"arn:aws:sqs:{REGION}:000000000000:q", region=REGION
            )
        ]
    )
    answer = ingest.handler(event, lambda_context(terraform_stack.outputs["ingest_function_name"]))
    assert answer == {"batchItemFailures": []}

    # THEN the job is recorded and submitted to the high queue
    ddb = terraform_stack.client("dynamodb")
    table = terraform_stack.outputs["table_name"]
    record = records.get_record(ddb, table, JOB_ID)
    assert record is not None
    assert record["status"] == "SUBMITTED", record.get("status_reason")
    batch = terraform_stack.client("batch")
    (submitted,) = batch.describe_jobs(jobs=[record["batch_job_id"]])["jobs"]
    assert submitted["jobQueue"] == terraform_stack.outputs["queue_arns"]["high"]

    # WHEN the job runs as the registered job definition says (moto never runs containers)
    result = terraform_stack.run_job(submitted)

    # THEN it succeeded, with its figures, output parts and a manifest
    assert result.returncode == 0, result.stderr[-4000:]
    record = records.get_record(ddb, table, JOB_ID)
    assert record["status"] == "SUCCEEDED", record.get("status_reason")
    assert record["rows"] == rows
    assert record["output_uri"].rstrip("/") == output_uri.rstrip("/")
    manifest_bucket, _, manifest_key = record["manifest_uri"].removeprefix("s3://").partition("/")
    manifest = s3.get_object(Bucket=manifest_bucket, Key=manifest_key)["Body"].read()
    assert manifest
    parts = s3.list_objects_v2(
        Bucket=terraform_stack.outputs["results_bucket"], Prefix="scores/e2e/"
    )
    assert len(parts.get("Contents", [])) >= 2  # at least one part and the manifest

    # AND the CLI, reading the same deployment from the Lambda's environment, reports it
    cli = CliRunner().invoke(cli_app, ["status", JOB_ID, "--json"])
    assert cli.exit_code == 0, cli.output
    shown = json.loads(cli.output)
    assert (shown["status"], shown["rows"], shown["priority"]) == ("SUCCEEDED", rows, "high")
    assert shown["queue"] == terraform_stack.outputs["queue_arns"]["high"]
