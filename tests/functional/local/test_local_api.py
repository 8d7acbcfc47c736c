"""The local Batch over Batch's REST-JSON protocol, as a boto3 client in another process sees it."""

from __future__ import annotations

import time

import boto3
import pytest
import requests
from support.local_jobs import script

from submitter.local.api import BatchApi, batch_routes

TOKEN = "BSLOCALTESTTOKEN"
SIGNED = {
    "Authorization": f"AWS4-HMAC-SHA256 Credential={TOKEN}/20260101/us-east-1/batch/aws4_request"
}


@pytest.fixture
def api(make_batch):
    with BatchApi(make_batch(script("ok", "print('ok')")), token=TOKEN) as served:
        yield served


@pytest.fixture
def client(api):
    return boto3.client(
        "batch",
        endpoint_url=api.url,
        region_name="us-east-1",
        aws_access_key_id=TOKEN,  # the stack's token is its access key id
        aws_secret_access_key="testing",
    )


def test_routes_are_batchs_paths_for_the_methods_the_executor_has(make_batch):
    routes = batch_routes(make_batch())
    assert routes["/v1/submitjob"] == "submit_job"
    assert routes["/v1/listjobs"] == "list_jobs"
    assert "/v1/createcomputeenvironment" not in routes


def test_a_boto3_client_submits_and_follows_a_job(client):
    job = client.submit_job(jobName="http", jobQueue="normal", jobDefinition="ok")
    assert job["jobArn"].endswith(job["jobId"])
    for _ in range(500):
        (detail,) = client.describe_jobs(jobs=[job["jobId"]])["jobs"]
        if detail["status"] == "SUCCEEDED":
            break
        time.sleep(0.01)
    assert detail["status"] == "SUCCEEDED"
    assert detail["attempts"][0]["container"]["exitCode"] == 0
    queues = client.describe_job_queues(jobQueues=["high"])["jobQueues"]
    assert queues[0]["priority"] == 100


def test_errors_come_back_as_batch_client_exceptions(client):
    with pytest.raises(client.exceptions.ClientException, match="job queue nope does not exist"):
        client.submit_job(jobName="x", jobQueue="nope", jobDefinition="ok")


def test_an_operation_the_executor_lacks_is_refused(api):
    answer = requests.post(
        f"{api.url}/v1/createcomputeenvironment", json={}, headers=SIGNED, timeout=5
    )
    assert answer.status_code == 404
    assert answer.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    bad = requests.post(f"{api.url}/v1/describejobs", json={"nope": 1}, headers=SIGNED, timeout=5)
    assert bad.status_code == 400
    assert bad.json()["__type"] == "ClientException"


def test_the_api_refuses_to_start_without_a_token(make_batch):
    with pytest.raises(ValueError, match="token"):
        BatchApi(make_batch(), token="")


def test_the_own_origin_and_the_token_header_are_accepted(api):
    headers = {"Origin": api.url, "X-Batchscore-Token": TOKEN}
    answer = requests.post(f"{api.url}/v1/describejobqueues", json={}, headers=headers, timeout=5)
    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers
