"""The upload queue (terraform/ingest_queue.tf) against what AWS documents and the moto emulator
cannot check: Lambda's SQS event source rules, Batch's SubmitJob quota, and why S3 no longer
invokes the ingest Lambda directly.

Sources (read 2026-11):
- Lambda developer guide, "Creating and configuring an Amazon SQS event source mapping"
  (services-sqs-configure): "set the source queue's visibility timeout to at least six times the
  configuration timeout on your function"; "Your function's timeout must be less than or equal to
  the queue's visibility timeout".
- Lambda developer guide, "Configuring scaling behavior for SQS event source mappings"
  (services-sqs-scaling): maximum concurrency from 2 to 1,000.
- Lambda API reference, EventSourceMapping BatchSize: 1-10 for a standard queue without
  MaximumBatchingWindowInSeconds (up to 10,000 with a window).
- SQS developer guide, dead-letter queues: maxReceiveCount from 1 to 1,000.
- AWS Batch user guide, "Service quotas": "Maximum number of transactions per second (TPS) for
  each account for SubmitJob operations: 50" (cannot be changed).
- Lambda developer guide, "How Lambda handles errors and retries with asynchronous invocation":
  a function error is retried two more times (1 then 2 minutes later); "If the function can't
  keep up with incoming events, events might also be deleted from the queue without being sent
  to the function." That is why the trigger is a queue (docs/scale.md, "Bursts").
"""

from __future__ import annotations

from typing import Any

import pytest
from support.terraform_hcl import load_hcl, merged, resource, root_locals

from submitter import batch as batch_api
from submitter import ingest_queue, settings
from submitter.local import ingest_queue as local_queue

SUBMIT_JOB_TPS = 50
SIX_TIMES = 6
MAX_CONCURRENCY_RANGE = range(2, 1001)
BATCH_SIZE_WITHOUT_WINDOW = range(1, 11)
MAX_RECEIVE_RANGE = range(1, 1001)
# Measured here (tests/functional/submitter/test_ingest_burst.py, docs/scale.md): one upload
# takes about 0.25 s of the handler's time (GetObject, PutItem, SubmitJob, UpdateItem), so one
# invocation submits about 4 jobs a second.
SUBMITS_PER_SECOND_PER_INVOCATION = 4


@pytest.fixture(scope="module")
def variables() -> dict[str, Any]:
    return merged(load_hcl("variables.tf")["variable"])


def default(variables: dict[str, Any], name: str) -> int:
    return int(variables[name]["default"])


def test_visibility_timeout_is_six_times_the_ingest_timeout_and_outlives_the_lease() -> None:
    found = root_locals()
    timeout = int(found["lambdas"]["ingest"]["timeout"])
    assert found["ingest_visibility_timeout"] == "${6 * local.lambdas.ingest.timeout}"
    queue = resource("ingest_queue.tf", "aws_sqs_queue", "ingest")
    assert queue["visibility_timeout_seconds"] == "${local.ingest_visibility_timeout}"
    visibility = SIX_TIMES * timeout
    # A message redelivered after a failure never meets the lease its last receive took.
    assert visibility > settings.DEFAULT_LEASE_SECONDS


def test_event_source_mapping_settings_are_in_lambdas_ranges(variables: dict[str, Any]) -> None:
    mapping = resource("ingest_queue.tf", "aws_lambda_event_source_mapping", "ingest")
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert "maximum_batching_window_in_seconds" not in mapping
    assert default(variables, "ingest_max_concurrency") in MAX_CONCURRENCY_RANGE
    assert default(variables, "ingest_batch_size") in BATCH_SIZE_WITHOUT_WINDOW
    assert default(variables, "ingest_max_receives") in MAX_RECEIVE_RANGE


def test_bounded_concurrency_stays_under_submit_jobs_quota(variables: dict[str, Any]) -> None:
    concurrency = default(variables, "ingest_max_concurrency")
    assert concurrency * SUBMITS_PER_SECOND_PER_INVOCATION < SUBMIT_JOB_TPS


def test_the_local_stack_redelivers_as_often_as_the_deployed_queue(
    variables: dict[str, Any],
) -> None:
    assert default(variables, "ingest_max_receives") == local_queue.MAX_RECEIVES


def test_a_record_is_started_only_with_time_for_its_worst_case() -> None:
    # The backoff's sleeps at their caps, plus one request per attempt at the client's timeouts
    # would be more than a Lambda; what the reserve must cover is the backoff's sleeps and the
    # handful of requests of one record (GetObject, PutItem, SubmitJob, UpdateItem).
    sleeps = sum(min(5.0, 0.1 * 2**n) for n in range(7))  # submitter.batch.with_backoff
    assert batch_api.with_backoff.__kwdefaults__["attempts"] == 8
    one_request = 3 + 10  # submitter.clients: connect + read timeout
    assert sleeps + one_request <= ingest_queue.RESERVE_MILLIS / 1000
    assert ingest_queue.RESERVE_MILLIS < settings.INGEST_TIMEOUT_SECONDS * 1000


def test_s3_notifies_the_queue_not_the_lambda() -> None:
    notification = resource("storage.tf", "aws_s3_bucket_notification", "jobs")
    assert "lambda_function" not in notification
    (queue,) = notification["queue"]
    assert queue["queue_arn"] == "${aws_sqs_queue.ingest.arn}"
    assert (queue["filter_prefix"], queue["filter_suffix"]) == ("jobs/", ".json")
    assert "aws_lambda_permission" not in merged(load_hcl("lambda.tf")["resource"])
