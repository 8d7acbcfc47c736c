"""The embedded local stack: moto server, upload events, Batch over HTTP, logs, state file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import unquote_plus

import boto3
import pytest
from support.local_jobs import Recorder, script
from support.waiting import wait_until

from submitter.local.stack import LocalStack, StackNames
from submitter.local.state import read_state

TO_DYNAMODB = (
    "import os, boto3\n"
    "boto3.client('dynamodb').put_item(TableName=os.environ['BATCHSCORE_TABLE'],\n"
    "    Item={'job_id': {'S': os.environ['AWS_BATCH_JOB_ID']}, 'status': {'S': 'RUNNING'}})\n"
    "print('wrote', os.environ['AWS_BATCH_JOB_ID'])\n"
)


@pytest.fixture(scope="module")
def state_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state") / "local.json"


@pytest.fixture(scope="module")
def stack(state_file: Path):
    definition = script("batchscore-job", TO_DYNAMODB)
    with LocalStack(job_definitions=[definition], state_file=state_file, poll_seconds=0.05) as up:
        yield up
    assert not state_file.exists()


@pytest.fixture
def uploads(stack: LocalStack):
    received = Recorder()
    stack.on_upload = received
    yield received.events
    stack.on_upload = None


def test_the_stack_holds_the_buckets_table_and_log_group(stack):
    s3 = stack.client("s3")
    names = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    assert names == {stack.names.jobs_bucket, stack.names.data_bucket}
    versioning = s3.get_bucket_versioning(Bucket=stack.names.jobs_bucket)
    assert versioning["Status"] == "Enabled"
    table = stack.client("dynamodb").describe_table(TableName=stack.names.table)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "job_id", "KeyType": "HASH"}]
    groups = stack.client("logs").describe_log_groups()["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/aws/batch/job"]


def test_each_upload_under_jobs_is_one_event_with_an_encoded_key(stack, uploads):
    s3 = stack.client("s3")
    key = "jobs/my job+1 é.json"
    first = s3.put_object(Bucket=stack.names.jobs_bucket, Key=key, Body=b"{}")
    second = s3.put_object(Bucket=stack.names.jobs_bucket, Key=key, Body=b'{"a": 1}')
    s3.put_object(Bucket=stack.names.jobs_bucket, Key="elsewhere/x.json", Body=b"{}")
    wait_until(lambda: len(uploads) >= 2)
    time.sleep(0.2)  # several polls: nothing else arrives
    records = [event["Records"] for event in uploads]
    assert [len(r) for r in records] == [1, 1]
    objects = [r[0]["s3"]["object"] for r in records]
    assert [o["key"] for o in objects] == ["jobs/my+job%2B1+%C3%A9.json"] * 2
    assert unquote_plus(objects[0]["key"]) == key
    assert [o["versionId"] for o in objects] == [first["VersionId"], second["VersionId"]]
    assert [o["size"] for o in objects] == [2, 8]
    assert objects[0]["eTag"] == first["ETag"].strip('"')
    assert records[0][0]["s3"]["bucket"]["name"] == stack.names.jobs_bucket
    assert records[0][0]["eventName"] == "ObjectCreated:Put"


def test_uploads_wait_for_a_handler_and_are_not_delivered_twice(stack):
    s3 = stack.client("s3")
    s3.put_object(Bucket=stack.names.jobs_bucket, Key="jobs/late.json", Body=b"{}")
    received = Recorder()
    stack.on_upload = received
    try:
        wait_until(
            lambda: any("late" in e["Records"][0]["s3"]["object"]["key"] for e in received.events)
        )
        time.sleep(0.2)  # several polls: nothing is delivered again
        count = len(received.events)
        s3.put_object(Bucket=stack.names.jobs_bucket, Key="jobs/after.json", Body=b"{}")
        wait_until(lambda: len(received.events) == count + 1)
    finally:
        stack.on_upload = None
    keys = [e["Records"][0]["s3"]["object"]["key"] for e in received.events]
    assert len(keys) == len(set(keys))


def test_a_job_process_reaches_the_emulated_aws_and_its_log_is_shipped(stack):
    events = Recorder()
    stack.on_batch_event = events
    try:
        job = stack.batch.submit_job(
            jobName="to-ddb", jobQueue="normal", jobDefinition="batchscore-job"
        )["jobId"]
        (detail,) = stack.batch.wait([job], timeout=20)
    finally:
        stack.on_batch_event = None
    assert detail["status"] == "SUCCEEDED", stack.batch.attempt_logs(job)[0].read_text()
    item = stack.client("dynamodb").get_item(
        TableName=stack.names.table, Key={"job_id": {"S": job}}
    )
    assert item["Item"]["status"] == {"S": "RUNNING"}
    stream = detail["attempts"][0]["container"]["logStreamName"]
    logged = stack.client("logs").get_log_events(
        logGroupName="/aws/batch/job", logStreamName=stream
    )
    assert [e["message"] for e in logged["events"]] == [f"wrote {job}"]
    assert events.statuses(job)[-1] == "SUCCEEDED"


def test_boto3_reaches_the_local_batch_through_its_endpoint_variable(stack, monkeypatch):
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    # A new process's default session: an earlier test's client may have cached other credentials
    # in this process's (botocore keeps what it resolved), and the stack wants its token.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    batch = boto3.client("batch")  # AWS_ENDPOINT_URL_BATCH, as any process would
    job = batch.submit_job(jobName="via-http", jobQueue="high", jobDefinition="batchscore-job")
    stack.batch.wait([job["jobId"]], timeout=20)
    (detail,) = batch.describe_jobs(jobs=[job["jobId"]])["jobs"]
    assert detail["status"] == "SUCCEEDED"
    listed = batch.list_jobs(jobQueue="high", filters=[{"name": "JOB_NAME", "values": ["via-*"]}])
    assert [j["jobId"] for j in listed["jobSummaryList"]] == [job["jobId"]]
    with pytest.raises(batch.exceptions.ClientException, match="does not exist"):
        batch.terminate_job(jobId="missing", reason="x")


def test_the_state_file_says_where_the_stack_runs(stack, state_file):
    state = read_state(state_file)
    assert state is not None
    assert state["pid"] == os.getpid()
    assert state["endpoint_url"] == stack.endpoint_url
    assert state["env"]["AWS_ENDPOINT_URL_BATCH"] == stack.batch_url
    assert state["names"]["jobs_bucket"] == stack.names.jobs_bucket
    assert json.loads(state["env"]["BATCHSCORE_QUEUES"]) == {
        "high": "high",
        "normal": "normal",
        "low": "low",
    }


def test_a_stale_or_missing_state_file_reads_as_none(tmp_path):
    assert read_state(tmp_path / "missing.json") is None
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({"pid": 2**22 + 12345, "endpoint_url": "http://x"}))
    assert read_state(stale) is None


def test_only_one_stack_per_process(stack):
    with pytest.raises(RuntimeError, match="already"):
        LocalStack(names=StackNames(jobs_bucket="other")).start()
