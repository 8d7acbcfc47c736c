"""AWS Batch calls: the SubmitJob request, finding an earlier submission, throttling backoff.

SubmitJob has no idempotency token, so the submitter gives every job a deterministic name and looks
for it (`ListJobs` with a `JOB_NAME` filter) before submitting again after a crash.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from config.digest import config_sha256
from config.retry import retry_strategy
from submitter.exceptions import SubmitRefusedError, ThrottledError

if TYPE_CHECKING:  # the state-change Lambda imports this module and needs no pydantic
    from config.models import JobConfig

T = TypeVar("T")

JOB_NAME_PREFIX = "batchscore-"
THROTTLE_CODES = frozenset(
    {"TooManyRequestsException", "ThrottlingException", "Throttling", "RequestLimitExceeded"}
)
# Batch answers a bad request (unknown queue or definition, invalid override) with these.
REFUSAL_CODES = frozenset({"ClientException", "ValidationException", "InvalidParameterException"})


def job_name(job_id: str) -> str:
    """The Batch job name of a job id (Batch allows 128 of [A-Za-z0-9_-]; job ids are <= 64)."""
    return JOB_NAME_PREFIX + job_id


def job_id_from_name(name: str) -> str | None:
    return name.removeprefix(JOB_NAME_PREFIX) if name.startswith(JOB_NAME_PREFIX) else None


def is_throttle(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error.get("Code") in THROTTLE_CODES or status == 429


def with_backoff(
    call: Callable[[], T],
    *,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = 8,
    base: float = 0.1,
    cap: float = 5.0,
    rng: random.Random | None = None,
) -> T:
    """Run `call`, retrying throttling with exponential backoff and full jitter
    (sleep uniform(0, min(cap, base * 2**n))); every other error is raised at once."""
    draw = (rng or random).uniform
    for attempt in range(attempts):
        try:
            return call()
        except ClientError as exc:
            if not is_throttle(exc):
                raise
            if attempt == attempts - 1:
                raise ThrottledError(f"still throttled after {attempts} attempts: {exc}") from exc
            sleep(draw(0, min(cap, base * 2**attempt)))
    raise AssertionError("unreachable")  # pragma: no cover


def submit_request(
    config: JobConfig, *, job_id: str, queue: str, job_definition: str
) -> dict[str, Any]:
    """The SubmitJob arguments for a validated config."""
    request: dict[str, Any] = {
        "jobName": job_name(job_id),
        "jobQueue": queue,
        "jobDefinition": job_definition,
        # config_sha256 binds the job to this config: the container refuses a record whose config
        # was changed after submission (the job role can write records, not Batch jobs).
        "parameters": {"job_id": job_id, "config_sha256": config_sha256(config)},
    }
    if config.shards > 1:
        request["arrayProperties"] = {"size": config.shards}
    requirements = resource_requirements(config)
    if requirements:
        request["containerOverrides"] = {"resourceRequirements": requirements}
    if config.timeout_seconds is not None:
        request["timeout"] = {"attemptDurationSeconds": config.timeout_seconds}
    if config.tags:
        request["tags"] = dict(config.tags)
    if config.attempts is not None:
        # A strategy sent with SubmitJob replaces the job definition's: send it whole, rules too.
        request["retryStrategy"] = retry_strategy(config.attempts)
    return request


def resource_requirements(config: JobConfig) -> list[dict[str, str]]:
    resources = config.resources
    if resources is None:
        return []
    requirements = []
    if resources.vcpus is not None:
        vcpus = resources.vcpus
        text = str(int(vcpus)) if float(vcpus).is_integer() else str(vcpus)
        requirements.append({"type": "VCPU", "value": text})
    if resources.memory_mib is not None:
        requirements.append({"type": "MEMORY", "value": str(resources.memory_mib)})
    return requirements


def find_submitted(
    batch: Any, *, queue: str, job_id: str, sleep: Callable[[float], None] = time.sleep
) -> str | None:
    """The Batch job id of an earlier submission of `job_id` (by its job name) on `queue`, or None.

    With filters, ListJobs returns jobs of every status. The filter is case-insensitive and moto
    also lists array children (`<parent>:<index>`), so the exact name and a parent id are checked.
    """
    name = job_name(job_id)
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "jobQueue": queue,
            "filters": [{"name": "JOB_NAME", "values": [name]}],
        }
        if token:
            kwargs["nextToken"] = token
        page = with_backoff(partial(batch.list_jobs, **kwargs), sleep=sleep)
        for summary in page.get("jobSummaryList", []):
            found: str = summary["jobId"]
            if summary.get("jobName") == name and ":" not in found:
                return found
        token = page.get("nextToken")
        if not token:
            return None


def submit(
    batch: Any, request: dict[str, Any], *, sleep: Callable[[float], None] = time.sleep
) -> str:
    """SubmitJob with throttling backoff; the Batch job id. A refused request raises
    SubmitRefusedError (permanent); other errors propagate (transient for the caller)."""
    try:
        response = with_backoff(lambda: batch.submit_job(**request), sleep=sleep)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in REFUSAL_CODES:
            message = exc.response["Error"].get("Message", str(exc))
            raise SubmitRefusedError(f"SubmitJob refused: {message}") from exc
        raise
    batch_job_id: str = response["jobId"]
    return batch_job_id


def terminate(
    batch: Any, batch_job_id: str, reason: str, *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """TerminateJob (also cancels a job that has not started; an array parent takes its
    children with it)."""
    with_backoff(lambda: batch.terminate_job(jobId=batch_job_id, reason=reason), sleep=sleep)
