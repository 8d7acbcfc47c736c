"""The ingest Lambda's timeout, its submission lease and its clients' timeouts against Lambda's
documented retry schedule for asynchronous events (S3 notifications are asynchronous):

"If the function returns an error, Lambda attempts to run it two more times, with a one-minute
wait between the first two attempts, and two minutes between the second and third attempts."
(AWS Lambda Developer Guide, "Error handling and automatic retries"; a timeout is an error.)

The values are the deployed ones, read from terraform/lambda.tf.
"""

from __future__ import annotations

from typing import Any

import pytest

from config import env
from submitter import clients, settings
from submitter.batch import with_backoff

RETRY_WAITS = (60, 120)  # seconds before the 2nd and the 3rd attempt, after the previous ends


@pytest.fixture(scope="module")
def deployed(hcl_locals: dict[str, Any]) -> dict[str, int]:
    timeout = int(hcl_locals["lambdas"]["ingest"]["timeout"])
    margin = int(hcl_locals["lease_margin_seconds"])
    expression = hcl_locals["lambda_environment"][env.SUBMIT_LEASE_SECONDS]
    assert expression == "${tostring(local.lambdas.ingest.timeout + local.lease_margin_seconds)}"
    return {"timeout": timeout, "lease": timeout + margin}


def test_python_defaults_are_the_deployed_values(deployed: dict[str, int]) -> None:
    assert deployed["timeout"] == settings.INGEST_TIMEOUT_SECONDS
    assert deployed["lease"] == settings.DEFAULT_LEASE_SECONDS


def test_a_live_holder_keeps_its_lease_until_lambda_has_killed_it(deployed: dict[str, int]) -> None:
    # Taken at any moment of the invocation, the lease ends after the invocation can run.
    assert deployed["lease"] > deployed["timeout"]


def _first_retry_that_takes_over(lease: int, taken: float, died: float, wait: float) -> int | None:
    """Which retry (1 or 2) finds the lease expired, None when neither does (the event would go
    to the dead-letter queue, leaving a SUBMITTED record with no Batch job)."""
    start = died
    for number, pause in enumerate(RETRY_WAITS, start=1):
        start += pause
        if start >= taken + lease:
            return number
        start += wait  # it waits for the holder a little, then fails: the next retry follows
    return None


def test_one_of_lambdas_retries_takes_over_a_dead_holders_lease(deployed: dict[str, int]) -> None:
    from submitter.submission import Runtime

    timeout, lease, wait = deployed["timeout"], deployed["lease"], Runtime().wait_seconds
    outcomes = {
        _first_retry_that_takes_over(lease, taken, died, wait)
        for taken in range(timeout + 1)
        for died in range(taken, timeout + 1)  # a crash, or Lambda's kill at the timeout
    }
    assert None not in outcomes
    # A holder killed at its timeout is taken over by the very next retry.
    assert _first_retry_that_takes_over(lease, 0, timeout, wait) == 1


def test_the_old_lease_would_have_lost_the_event() -> None:
    """The guard's own check: the 300 s lease of before left both retries facing a live lease."""
    assert _first_retry_that_takes_over(300, 59, 60, 3.0) is None


@pytest.mark.parametrize("purpose", ["s3", "dynamodb", "batch-submit", "batch"])
def test_one_request_gives_up_well_before_the_lambda_timeout(
    deployed: dict[str, int], purpose: str
) -> None:
    config = clients.client_config(purpose)
    per_try = config.connect_timeout + config.read_timeout
    worst = config.retries["total_max_attempts"] * per_try
    assert worst <= deployed["timeout"] * 2 / 3, f"{purpose}: {worst} s"


def test_submit_is_never_resent_by_botocore() -> None:
    assert clients.client_config("batch-submit").retries["total_max_attempts"] == 1


def test_throttling_backoff_fits_in_the_invocation(deployed: dict[str, int]) -> None:
    slept: list[float] = []

    class Rng:
        def uniform(self, low: float, high: float) -> float:
            return high  # the longest sleep each time

    from botocore.exceptions import ClientError

    from submitter.exceptions import ThrottledError

    def throttled() -> None:
        raise ClientError({"Error": {"Code": "TooManyRequestsException"}}, "SubmitJob")

    with pytest.raises(ThrottledError):
        with_backoff(throttled, sleep=slept.append, rng=Rng())  # type: ignore[arg-type]
    assert sum(slept) < deployed["timeout"] / 3
