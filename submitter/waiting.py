"""Why a submitted job is not running: one line, then the detail (`batchscore status`).

Batch's own status reason is often empty ("-") while a job sits in RUNNABLE. What keeps it there
is nearly always one of: its queue or every compute environment of the queue is DISABLED or
INVALID; it asks for more vCPUs or memory than the largest instance its environments allow, or
than their maxvCpus (Batch never splits a job across instances, and waits forever); or other jobs
are ahead of it in the queue. Each is read from the Batch API: DescribeJobs, DescribeJobQueues,
DescribeComputeEnvironments, and ListJobs (RUNNABLE on the queue, paged) for the jobs ahead,
which the local Batch answers too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config.instance_limits import Largest, largest_fargate, largest_instance
from submitter.job_cost import resources_of

WAITING = frozenset({"SUBMITTED", "PENDING", "RUNNABLE"})
MAX_PAGES = 20  # jobs ahead: counted up to 20 ListJobs pages (2,000 jobs), "more than" beyond
USABLE = ("ENABLED", "VALID")


@dataclass
class Explanation:
    headline: str
    details: list[str] = field(default_factory=list)
    batch_status: str = ""
    jobs_ahead: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "headline": self.headline,
            "details": self.details,
            "batch_status": self.batch_status,
            "jobs_ahead": self.jobs_ahead,
        }


@dataclass(frozen=True)
class EnvironmentView:
    name: str
    kind: str  # FARGATE, FARGATE_SPOT, EC2, SPOT
    state: str
    status: str
    status_reason: str
    max_vcpus: float
    largest: Largest

    @property
    def usable(self) -> bool:
        return (self.state, self.status) == USABLE

    def holds(self, vcpus: float, memory_mib: int) -> bool:
        return (
            vcpus <= self.largest.vcpus
            and memory_mib <= self.largest.memory_mib
            and vcpus <= self.max_vcpus
        )

    def describe(self) -> str:
        about = "about " if self.largest.approximate else ""
        text = (
            f"{self.name}: {self.kind}, {self.state}/{self.status}, maxvCpus {self.max_vcpus:g}, "
            f"largest job {about}{self.largest.vcpus:g} vCPU / {self.largest.memory_mib} MiB"
        )
        return f"{text} ({self.status_reason})" if self.status_reason and not self.usable else text


def environment_view(detail: dict[str, Any]) -> EnvironmentView:
    resources = detail.get("computeResources") or {}
    kind = resources.get("type") or detail.get("type") or "EC2"
    fargate = kind.startswith("FARGATE")
    return EnvironmentView(
        name=detail["computeEnvironmentName"],
        kind=kind,
        state=detail.get("state", ""),
        status=detail.get("status", ""),
        status_reason=detail.get("statusReason") or "",
        max_vcpus=float(resources.get("maxvCpus") or 0),
        largest=largest_fargate()
        if fargate
        else largest_instance(resources.get("instanceTypes") or []),
    )


def explain(batch: Any, batch_job_id: str) -> Explanation | None:
    """Why this Batch job has not started; None when Batch no longer has it waiting."""
    jobs = batch.describe_jobs(jobs=[batch_job_id])["jobs"]
    if not jobs or jobs[0].get("status") not in WAITING:
        return None
    job = jobs[0]
    vcpus, memory = resources_of(job)
    reason = job.get("statusReason") or "-"
    queue_ref = job.get("jobQueue", "")
    details = [
        f"Batch status: {job['status']}, status reason: {reason}",
        f"asks for: {vcpus:g} vCPU, {memory} MiB",
    ]
    queues = batch.describe_job_queues(jobQueues=[queue_ref])["jobQueues"]
    if not queues:
        return Explanation(f"its queue {queue_ref} no longer exists", details, job["status"])
    queue = queues[0]
    environments = _environments(batch, queue)
    details.append(
        f"queue {queue['jobQueueName']}: {queue.get('state')}/{queue.get('status')}, "
        f"priority {queue.get('priority')}"
    )
    details += [f"  compute environment {env.describe()}" for env in environments]
    ahead = _jobs_ahead(batch, queue["jobQueueArn"], job)
    details.append(f"RUNNABLE jobs ahead of it in its queue: {_count(ahead)}")
    headline = _headline(job, queue, environments, vcpus, memory, ahead, reason)
    return Explanation(headline, details, job["status"], ahead)


def _headline(
    job: dict[str, Any],
    queue: dict[str, Any],
    environments: list[EnvironmentView],
    vcpus: float,
    memory: int,
    ahead: int,
    reason: str,
) -> str:
    if (queue.get("state"), queue.get("status")) != USABLE:
        why = f": {queue['statusReason']}" if queue.get("statusReason") else ""
        return (
            f"its queue {queue['jobQueueName']} is {queue.get('state')}/{queue.get('status')}{why}"
        )
    usable = [env for env in environments if env.usable]
    if not usable:
        states = ", ".join(f"{env.name} is {env.state}/{env.status}" for env in environments)
        return f"no compute environment of its queue can run jobs: {states or 'it has none'}"
    if not any(env.holds(vcpus, memory) for env in usable):
        biggest = max(usable, key=lambda env: min(env.largest.vcpus, env.max_vcpus))
        about = "about " if biggest.largest.approximate else ""
        return (
            f"too big for its compute environments: it asks for {vcpus:g} vCPU / {memory} MiB; "
            f"the most any allows is {min(biggest.largest.vcpus, biggest.max_vcpus):g} vCPU "
            f"({biggest.name}: maxvCpus {biggest.max_vcpus:g}, largest instance {about}"
            f"{biggest.largest.vcpus:g} vCPU / {biggest.largest.memory_mib} MiB); "
            "it will wait until cancelled"
        )
    if job.get("status") in ("SUBMITTED", "PENDING"):
        return f"Batch has not made it RUNNABLE yet ({job['status']}: dependencies or a burst)"
    if ahead:
        return f"{_count(ahead)} job(s) are ahead of it in its queue {queue['jobQueueName']}"
    if reason != "-":
        return f"Batch says: {reason}"
    return "waiting for capacity: Batch is scaling its compute environments up"


def _environments(batch: Any, queue: dict[str, Any]) -> list[EnvironmentView]:
    order = sorted(queue.get("computeEnvironmentOrder") or [], key=lambda o: o["order"])
    arns = [entry["computeEnvironment"] for entry in order]
    if not arns:
        return []
    found = batch.describe_compute_environments(computeEnvironments=arns)["computeEnvironments"]
    return [environment_view(detail) for detail in found]


def _jobs_ahead(batch: Any, queue: str, job: dict[str, Any]) -> int:
    """RUNNABLE jobs of the queue submitted before this one (Batch runs a queue first in, first
    out, as capacity allows); -1 when there are more than MAX_PAGES pages of them."""
    created, ahead, token = job.get("createdAt") or 0, 0, None
    for _ in range(MAX_PAGES):
        kwargs: dict[str, Any] = {"jobQueue": queue, "jobStatus": "RUNNABLE", "maxResults": 100}
        if token:
            kwargs["nextToken"] = token
        page = batch.list_jobs(**kwargs)
        ahead += sum(
            1
            for summary in page.get("jobSummaryList", [])
            if summary["jobId"] != job["jobId"] and (summary.get("createdAt") or 0) < created
        )
        token = page.get("nextToken")
        if not token:
            return ahead
    return -1


def _count(ahead: int) -> str:
    return f"more than {MAX_PAGES * 100}" if ahead < 0 else str(ahead)
