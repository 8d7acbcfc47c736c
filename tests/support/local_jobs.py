"""Helpers for the local-runtime tests: tiny Python scripts as jobs, an event recorder."""

from __future__ import annotations

from typing import Any

from submitter.local.executor import LocalBatch
from submitter.local.jobs import JobDefinition

GRACE_SECONDS = 0.3


def script(name: str, code: str, **options: Any) -> JobDefinition:
    """A job definition running `python -c code` (`sys.argv[1:]` are the extra args)."""
    extra = tuple(options.pop("args", ()))
    return JobDefinition(name=name, command=("python", "-c", code, *extra), **options)


class Recorder:
    """Collects state-change events; helpers to read them."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def statuses(self, job_id: str) -> list[str]:
        return [e["detail"]["status"] for e in self.events if e["detail"]["jobId"] == job_id]

    def started(self) -> list[str]:
        """Job ids in the order they reached RUNNING."""
        return [e["detail"]["jobId"] for e in self.events if e["detail"]["status"] == "RUNNING"]


GATED = "import os, sys, time\nwhile not os.path.exists(sys.argv[1]):\n    time.sleep(0.01)\n"


def status_of(batch: LocalBatch, job_id: str) -> str | None:
    """The job's status; None while it does not exist (an array child before its parent ran)."""
    found = batch.describe_jobs(jobs=[job_id])["jobs"]
    return found[0]["status"] if found else None
