"""SubmitJob is not idempotent: the ingest Lambda's Batch client must not re-send it by itself.

botocore retries a 5xx or a lost connection on its own (3 attempts in `standard` mode, 5 in
`legacy`). Had Batch carried out the first request, each re-send would be another Batch job of
the same name that the record never names, and it would run. The ingest Lambda's client therefore
makes one attempt per call: throttling is retried by `submitter.batch.with_backoff`, anything else
fails the invocation, and its retry finds an earlier submission by name (test_rel_crash.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from support.events import s3_put_event
from support.job_configs import job_config
from support.names import JOB_DEFINITION, TABLE

from config import env, records
from submitter.ingest import IngestIncompleteError


class _Body:
    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def stream(self, **_: Any) -> Any:
        yield self.payload


def server_error(**_: Any) -> AWSResponse:
    """What a `before-send` handler returns instead of sending: a 500 from Batch."""
    body = json.dumps({"__type": "ServerException", "message": "We encountered an internal error"})
    return AWSResponse(
        "https://batch.us-east-1.amazonaws.com/v1/submitjob",
        500,
        # botocore wraps any mapping in its HeadersDict; the stubs ask for an HTTPHeaders
        {"x-amzn-ErrorType": "ServerException", "Content-Type": "application/json"},  # type: ignore[arg-type]
        _Body(body.encode()),
    )


@pytest.mark.parametrize("retry_mode", ["legacy", "standard", "adaptive"])
def test_the_ingest_lambda_sends_submit_job_once_per_attempt(
    make_pipeline,
    cold_start: Callable[[str], ModuleType],
    monkeypatch: pytest.MonkeyPatch,
    retry_mode: str,
) -> None:
    pipeline = make_pipeline()
    monkeypatch.setenv(env.TABLE_NAME, TABLE)
    monkeypatch.setenv(env.JOB_DEFINITION, JOB_DEFINITION)
    monkeypatch.setenv(env.QUEUES, "high,normal,low")
    monkeypatch.setenv("AWS_RETRY_MODE", retry_mode)  # whatever the deployment sets
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")
    handler = cold_start("submitter.ingest_handler")
    sent: list[str] = []

    def answer_500(request: Any, **kwargs: Any) -> AWSResponse:
        sent.append(request.url)
        return server_error()

    handler.batch.meta.events.register_first("before-send.batch.SubmitJob", answer_500)
    event = s3_put_event("jobs/churn.json", pipeline.upload("jobs/churn.json", job_config("c")))

    with pytest.raises(IngestIncompleteError):
        handler.handler(event)

    # THEN SubmitJob went out once; the lease is released for Lambda's retry of the invocation
    assert len(sent) == 1
    [record] = pipeline.records()
    assert "batch_job_id" not in record
    assert record["lease_until"] == 0
    assert records.get_record(pipeline.ddb, TABLE, record["job_id"])["status"] == "SUBMITTED"
