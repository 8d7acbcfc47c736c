"""Job statuses and the one rule about them: they only move forward."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    REJECTED = "REJECTED"
    SUBMITTED = "SUBMITTED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def rank(self) -> int:
        return _RANK[self]


TERMINAL = frozenset(
    {JobStatus.REJECTED, JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}
)

# SUBMITTED < RUNNING < every terminal status. REJECTED is terminal from birth.
_RANK = {
    JobStatus.SUBMITTED: 1,
    JobStatus.RUNNING: 2,
    JobStatus.SUCCEEDED: 3,
    JobStatus.FAILED: 3,
    JobStatus.CANCELLED: 3,
    JobStatus.REJECTED: 3,
}


def may_move(current: JobStatus, new: JobStatus) -> bool:
    """True when a record at `current` may move to `new`: strictly forward, never out of a terminal.

    RUNNING -> RUNNING is allowed (a new attempt); callers guard it with the attempt number.
    """
    if current.is_terminal:
        return False
    if current == new == JobStatus.RUNNING:
        return True
    return new.rank > current.rank


def statuses_before(new: JobStatus) -> list[JobStatus]:
    """Every status from which a record may move to `new` (for DynamoDB conditions)."""
    return [s for s in JobStatus if may_move(s, new)]
