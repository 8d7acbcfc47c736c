"""The retry strategy every job runs with, in AWS Batch's `retryStrategy` shape.

One source for three readers: Terraform's job definition (a test proves they agree), the submitter
(a `retryStrategy` sent with SubmitJob *replaces* the job definition's, so an `attempts` override
must carry these rules too) and the local executor. Batch evaluates the rules in order, first
match wins, and retries an unmatched failure: hence the catch-all EXIT last.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_PERMANENT = 2  # bad config, model or input: a retry cannot help
EXIT_TRANSIENT = 3  # throttling, 5xx, lost connection: a retry may help

DEFAULT_ATTEMPTS = 3

# The status reasons Batch gives an attempt that lost its capacity (no exit code: the container
# was killed with its host), retried like a transient failure. Batch's patterns allow letters,
# digits, periods, colons and white space, and a trailing `*` for a prefix.
# EC2 Spot reclaims and lost hosts: "Host EC2 (instance i-...) terminated."
EC2_HOST_TERMINATED = "Host EC2*"
# Fargate Spot: the task's stoppedReason, "Your Spot Task was interrupted." (stop code
# SpotInterruption). `Host EC2*` does not match it.
FARGATE_SPOT_INTERRUPTED = "Your Spot Task was interrupted*"

EVALUATE_ON_EXIT: tuple[dict[str, str], ...] = (
    {"onStatusReason": EC2_HOST_TERMINATED, "action": "RETRY"},
    {"onStatusReason": FARGATE_SPOT_INTERRUPTED, "action": "RETRY"},
    {"onExitCode": str(EXIT_TRANSIENT), "action": "RETRY"},
    {"onReason": "*", "action": "EXIT"},
)


def retry_strategy(attempts: int = DEFAULT_ATTEMPTS) -> dict[str, Any]:
    """The whole strategy for `attempts` attempts, rules included."""
    return {"attempts": attempts, "evaluateOnExit": [dict(rule) for rule in EVALUATE_ON_EXIT]}
