"""How the Lambdas' boto3 clients talk to AWS: timeouts well under the Lambda's own.

botocore's defaults (60 s read timeout, retried) equal the ingest Lambda's 60 s timeout: one slow
answer would let Lambda kill the invocation mid-submission. With these, any one request gives
up, retries included, well before the Lambda's timeout, so the handler fails with a clear error
and releases its submission lease (`tests/functional/terraform/test_lambda_timing.py` holds the sums
against the Terraform values and Lambda's retry schedule).
"""

from __future__ import annotations

from typing import Any

CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 10
# botocore's "standard" mode: throttling and transient errors retried, 3 attempts in all.
AWS_ATTEMPTS = 3
# SubmitJob is not idempotent: botocore must not re-send it after a 5xx or a lost connection,
# which Batch may have carried out (a second job of the same name, never attached, would run).
# Throttling is retried by submitter.batch.with_backoff; any other error fails the invocation,
# whose retry finds an earlier submission by name (submitter.submission.resume).
NOT_RETRIED = frozenset({"batch-submit"})


def attempts(purpose: str) -> int:
    return 1 if purpose in NOT_RETRIED else AWS_ATTEMPTS


def client_config(purpose: str) -> Any:
    """The botocore Config for a client used for `purpose` (a service name, or "batch-submit"
    for the ingest's Batch client, which submits jobs)."""
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "total_max_attempts": attempts(purpose)},
    )
