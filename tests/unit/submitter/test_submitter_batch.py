"""The SubmitJob request and throttling backoff, without AWS."""

from __future__ import annotations

import random

import pytest
from botocore.exceptions import ClientError
from support.aws_errors import client_error

from config.digest import canonical_text, config_sha256, text_sha256
from config.parsing import validate_document
from config.retry import retry_strategy
from submitter.batch import (
    is_throttle,
    job_id_from_name,
    job_name,
    submit_request,
    with_backoff,
)
from submitter.exceptions import ThrottledError

BASE = {
    "name": "churn",
    "model": {"uri": "s3://data/m.skops"},
    "input": {"uri": "s3://data/in.parquet"},
    "output": {"uri": "s3://data/out/"},
}


def request_for(**overrides):
    config = validate_document({**BASE, **overrides})
    return submit_request(config, job_id="churn-1", queue="q-normal", job_definition="jd:3")


def test_minimal_request() -> None:
    assert request_for() == {
        "jobName": "batchscore-churn-1",
        "jobQueue": "q-normal",
        "jobDefinition": "jd:3",
        "parameters": {
            "job_id": "churn-1",
            "config_sha256": config_sha256(validate_document(BASE)),
        },
    }


def test_the_config_digest_is_the_sha256_of_the_text_the_record_stores() -> None:
    """The container hashes the record's `config` string; the submitter hashes the validated
    config: they agree for the text `submission.new_job_record` stores."""
    from submitter.settings import Settings
    from submitter.submission import new_job_record

    settings = Settings(table="t", job_definition="jd", queues={"normal": "q"})
    document = {**BASE, "shards": 2, "resources": {"vcpus": 1.0}, "tags": {"k": "v"}}
    record, stored = new_job_record(validate_document(document), "churn-1", settings)

    request = submit_request(stored, job_id="churn-1", queue="q", job_definition="jd")

    assert request["parameters"]["config_sha256"] == text_sha256(record["config"])
    assert canonical_text(stored) == record["config"]


def test_full_request() -> None:
    request = request_for(
        shards=8,
        resources={"vcpus": 0.5, "memory_mib": 1024},
        timeout_seconds=600,
        attempts=2,
        tags={"team": "risk"},
    )
    assert request["arrayProperties"] == {"size": 8}
    assert request["containerOverrides"] == {
        "resourceRequirements": [
            {"type": "VCPU", "value": "0.5"},
            {"type": "MEMORY", "value": "1024"},
        ]
    }
    assert request["timeout"] == {"attemptDurationSeconds": 600}
    assert request["tags"] == {"team": "risk"}
    assert request["retryStrategy"] == retry_strategy(2)


def test_one_shard_is_not_an_array_and_memory_alone_is_overridden_alone() -> None:
    request = request_for(shards=1, resources={"memory_mib": 8192})
    assert "arrayProperties" not in request
    assert request["containerOverrides"]["resourceRequirements"] == [
        {"type": "MEMORY", "value": "8192"}
    ]


def test_job_names_round_trip() -> None:
    assert job_id_from_name(job_name("abc-1")) == "abc-1"
    assert job_id_from_name("other-job") is None
    assert len(job_name("x" * 64)) <= 128


@pytest.mark.parametrize(
    ("code", "status", "throttle"),
    [
        ("TooManyRequestsException", 429, True),
        ("ThrottlingException", 400, True),
        ("SomethingElse", 429, True),
        ("ClientException", 400, False),
        ("ServerException", 500, False),
    ],
)
def test_is_throttle(code: str, status: int, throttle: bool) -> None:
    assert is_throttle(client_error(code, status)) is throttle


def test_backoff_retries_throttling_with_full_jitter() -> None:
    answers = [client_error("TooManyRequestsException", 429)] * 4 + ["ok"]
    sleeps: list[float] = []

    def call():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    result = with_backoff(call, sleep=sleeps.append, base=0.1, cap=0.5, rng=random.Random(7))
    assert result == "ok"
    assert len(sleeps) == 4
    for attempt, slept in enumerate(sleeps):
        assert 0 <= slept <= min(0.5, 0.1 * 2**attempt)


def test_backoff_gives_up_with_throttled_error() -> None:
    calls = []

    def call():
        calls.append(1)
        raise client_error("TooManyRequestsException", 429)

    with pytest.raises(ThrottledError):
        with_backoff(call, sleep=lambda _: None, attempts=3)
    assert len(calls) == 3


def test_backoff_raises_other_errors_at_once() -> None:
    calls = []

    def call():
        calls.append(1)
        raise client_error("ClientException")

    with pytest.raises(ClientError):
        with_backoff(call, sleep=lambda _: None)
    assert len(calls) == 1
