"""Errors of the Lambda side. AWS `ClientError`s are translated where the call is made; anything
not named here is re-raised as it came."""

from __future__ import annotations


class SubmitterError(Exception):
    """Base class of the submitter's own errors."""


class RetryableError(SubmitterError):
    """A retry may help: the invocation fails, Lambda redelivers, idempotency absorbs repeats."""


class ThrottledError(RetryableError):
    """AWS kept throttling after every backoff attempt."""


class SubmissionInFlightError(RetryableError):
    """Another invocation holds the submission lease of this job and may still be submitting it."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id!r} is being submitted by another invocation")
        self.job_id = job_id


class SubmitRefusedError(SubmitterError):
    """Batch refused the SubmitJob request (a retry cannot help: bad queue or definition)."""


class JobNotFoundError(SubmitterError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job {job_id!r}")
        self.job_id = job_id


class JobStateError(SubmitterError):
    """The job is in a status that does not allow the operation (cancel a finished job, rerun a
    running one)."""


class RerunIncompleteError(RetryableError):
    """A rerun's record exists but its submission did not finish, even after one recovery."""

    def __init__(self, job_id: str, original: str, cause: BaseException) -> None:
        super().__init__(
            f"the rerun {job_id!r} of {original!r} is recorded but its submission did not "
            f"finish ({cause}); a Batch job may exist: see `batchscore status {job_id}` "
            "before trying again"
        )
        self.job_id = job_id
