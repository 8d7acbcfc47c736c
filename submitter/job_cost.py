"""The actual cost of a finished job, from what Batch says about its attempts, onto its record.

Which capacity ran an attempt: Batch's DescribeJobs names no compute environment, but each
attempt's `container.taskArn` (`arn:aws:ecs:<region>:<account>:task/<cluster>/<task id>`) names
the ECS cluster, and each compute environment's `ecsClusterArn` names its own: matching the two
says FARGATE vs FARGATE_SPOT, EC2 vs SPOT, exactly. An attempt without a task ARN in that form
(older ARNs carry no cluster; a task lost before it started) is priced as the queue's first
compute environment, and the record's `basis` says so.

Batch calls per finished job: DescribeJobQueues and DescribeComputeEnvironments once (then
cached for the warm Lambda), plus, for an array of N children, ceil(N / 100) DescribeJobs: the
children's ids are `<parent id>:<index>` for every index below the parent's
`arrayProperties.size`, so no ListJobs is needed. A single job's attempts come in the event.

The cost is written once, after the job is terminal (`attribute_not_exists(cost)`): the
container writes its manifest before its attempt ends, so only this side knows the attempt's
stop time. It goes on the record only, not beside the manifest: writing into output prefixes
would give the state Lambda write access to every output bucket.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from config import records
from config.cost import AttemptUsage, Capacity, summarize
from config.records import KEY
from config.status import TERMINAL
from submitter.batch import with_backoff
from submitter.exceptions import ThrottledError

logger = logging.getLogger(__name__)

DESCRIBE_JOBS_MAX = 100  # DescribeJobs takes at most 100 job ids
ENVIRONMENTS_TTL_SECONDS = 300
DEFAULT_VCPUS, DEFAULT_MEMORY_MIB = 1.0, 2048


@dataclass(frozen=True)
class Environment:
    """A compute environment as the cost needs it."""

    name: str
    capacity: Capacity
    cluster: str  # the ECS cluster's name (from ecsClusterArn)
    instance_type: str = "optimal"


@dataclass
class CallCounter:
    """How many Batch calls costing a job took (logged, and asserted by the tests)."""

    calls: dict[str, int] = field(default_factory=dict)

    def count(self, operation: str) -> None:
        self.calls[operation] = self.calls.get(operation, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


class EnvironmentCache:
    """Each queue's compute environments, in order, for a few minutes (they change rarely)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[float, list[Environment]]] = {}

    def get(self, batch: Any, queue: str, counter: CallCounter) -> list[Environment]:
        cached = self._entries.get(queue)
        if cached and self._clock() - cached[0] < ENVIRONMENTS_TTL_SECONDS:
            return cached[1]
        environments = queue_environments(batch, queue, counter)
        self._entries[queue] = (self._clock(), environments)
        return environments


def queue_environments(batch: Any, queue: str, counter: CallCounter) -> list[Environment]:
    """The queue's compute environments in its `computeEnvironmentOrder` (two Batch calls)."""
    counter.count("DescribeJobQueues")
    queues = with_backoff(lambda: batch.describe_job_queues(jobQueues=[queue]))["jobQueues"]
    if not queues:
        return []
    order = sorted(queues[0].get("computeEnvironmentOrder", []), key=lambda o: o["order"])
    arns = [entry["computeEnvironment"] for entry in order]
    if not arns:
        return []
    counter.count("DescribeComputeEnvironments")
    described = with_backoff(lambda: batch.describe_compute_environments(computeEnvironments=arns))[
        "computeEnvironments"
    ]
    by_arn = {ce["computeEnvironmentArn"]: ce for ce in described}
    by_name = {ce["computeEnvironmentName"]: ce for ce in described}
    found = []
    for reference in arns:
        detail = by_arn.get(reference) or by_name.get(reference.rsplit("/", 1)[-1])
        if detail:
            found.append(environment_of(detail))
    return found


def environment_of(detail: Mapping[str, Any]) -> Environment:
    resources = detail.get("computeResources") or {}
    kind = resources.get("type") or "EC2"
    instance_types = resources.get("instanceTypes") or ["optimal"]
    return Environment(
        name=detail["computeEnvironmentName"],
        capacity=Capacity(kind) if kind in Capacity.__members__ else Capacity.EC2,
        cluster=(detail.get("ecsClusterArn") or "").rsplit("/", 1)[-1],
        instance_type=instance_types[0],
    )


def task_cluster(task_arn: str) -> str | None:
    """The cluster of a new-format ECS task ARN (`...:task/<cluster>/<id>`), else None."""
    _, _, resource = task_arn.partition(":task/")
    parts = resource.split("/")
    return parts[0] if len(parts) == 2 and parts[0] else None


def resources_of(detail: Mapping[str, Any]) -> tuple[float, int]:
    """The job's vCPUs and MiB: `resourceRequirements`, else the older `vcpus`/`memory`."""
    container = detail.get("container") or {}
    vcpus, memory = container.get("vcpus"), container.get("memory")
    for requirement in container.get("resourceRequirements") or []:
        if requirement.get("type") == "VCPU":
            vcpus = float(requirement["value"])
        elif requirement.get("type") == "MEMORY":
            memory = int(requirement["value"])
    return float(vcpus or DEFAULT_VCPUS), int(memory or DEFAULT_MEMORY_MIB)


def attempt_usages(
    detail: Mapping[str, Any], environments: list[Environment]
) -> tuple[list[AttemptUsage], int]:
    """Every attempt of one job (not an array parent) and how many were priced as the queue's
    first compute environment because their task named no known cluster."""
    vcpus, memory = resources_of(detail)
    by_cluster = {env.cluster: env for env in environments if env.cluster}
    fallback = environments[0] if environments else None
    usages, guessed = [], 0
    for attempt in detail.get("attempts") or []:
        started, stopped = attempt.get("startedAt"), attempt.get("stoppedAt")
        seconds = max(0.0, (stopped - started) / 1000) if started and stopped else 0.0
        cluster = task_cluster((attempt.get("container") or {}).get("taskArn") or "")
        environment = by_cluster.get(cluster or "")
        if environment is None:
            guessed += 1
            environment = fallback
        capacity = environment.capacity if environment else Capacity.EC2
        instance_type = environment.instance_type if environment else "optimal"
        usages.append(AttemptUsage(vcpus, memory, seconds, capacity, instance_type))
    return usages, guessed


def array_children(
    batch: Any, parent_id: str, size: int, counter: CallCounter
) -> list[dict[str, Any]]:
    """Every child's JobDetail, 100 per DescribeJobs, by their ids `<parent>:<index>`."""
    children: list[dict[str, Any]] = []
    for start in range(0, size, DESCRIBE_JOBS_MAX):
        ids = [f"{parent_id}:{i}" for i in range(start, min(size, start + DESCRIBE_JOBS_MAX))]
        counter.count("DescribeJobs")
        children.extend(with_backoff(partial(batch.describe_jobs, jobs=ids))["jobs"])
    return children


def job_cost(
    batch: Any,
    detail: Mapping[str, Any],
    prices: Mapping[str, Any],
    *,
    cache: EnvironmentCache | None = None,
    counter: CallCounter | None = None,
) -> dict[str, Any]:
    """The `cost` map of a finished job (single or array parent) as Batch describes it."""
    counter = counter if counter is not None else CallCounter()
    environments = (cache or EnvironmentCache()).get(batch, detail.get("jobQueue", ""), counter)
    size = (detail.get("arrayProperties") or {}).get("size")
    details = array_children(batch, detail["jobId"], int(size), counter) if size else [detail]
    usages: list[AttemptUsage] = []
    guessed = 0
    for job in details:
        found, unknown = attempt_usages(job, environments)
        usages.extend(found)
        guessed += unknown
    return summarize(usages, prices, basis=_basis(len(usages), guessed, environments, prices))


def _basis(
    total: int, guessed: int, environments: list[Environment], prices: Mapping[str, Any]
) -> str:
    at = f"at {prices['source']} prices"
    if not environments:
        return f"the queue's compute environments are unknown: priced as on-demand EC2, {at}"
    first = environments[0]
    if total == 0:
        return f"no attempt ran, {at}"
    if guessed == 0:
        return f"each attempt's ECS task matched to its compute environment, {at}"
    return (
        f"{guessed} of {total} attempt(s) estimated from the queue's first compute environment "
        f"({first.name}, {first.capacity.value}), the rest from their ECS task, {at}"
    )


def record_cost(
    ddb: Any,
    table: str,
    job_id: str,
    batch_job_id: str,
    cost: dict[str, Any],
) -> dict[str, Any] | None:
    """Put `cost` on the terminal record of this Batch job, once; the record afterwards, or
    None when it was there already (a repeated event) or the record is another job's."""
    terminal = {f":t{i}": status.value for i, status in enumerate(sorted(TERMINAL))}
    return records.conditional_update(
        ddb,
        table,
        job_id,
        update="SET #c = :cost",
        condition=(
            f"attribute_exists(#k) AND attribute_not_exists(#c) AND #b = :b "
            f"AND #s IN ({', '.join(terminal)})"
        ),
        names={"#k": KEY, "#c": "cost", "#b": "batch_job_id", "#s": "status"},
        values={":cost": cost, ":b": batch_job_id, **terminal},
        return_record=True,
    )


def cost_after_event(
    ddb: Any,
    table: str,
    batch: Any,
    event: Mapping[str, Any],
    prices: Mapping[str, Any],
    *,
    cache: EnvironmentCache | None = None,
) -> dict[str, Any] | None:
    """For a job's own final event (SUCCEEDED or FAILED, not a child's): its cost on its record.
    Returns the record once costed (None otherwise). Batch not answering is logged, not
    raised: the status is already recorded, and the cost is an extra."""
    detail = event.get("detail") or {}
    if event.get("detail-type") != "Batch Job State Change":
        return None
    if detail.get("status") not in ("SUCCEEDED", "FAILED"):
        return None
    if "index" in (detail.get("arrayProperties") or {}):
        return None  # a child: its parent's event costs the whole array
    job_id = (detail.get("parameters") or {}).get("job_id")
    if not job_id or not detail.get("jobId"):
        return None
    counter = CallCounter()
    try:
        cost = job_cost(batch, detail, prices, cache=cache, counter=counter)
    except (ClientError, ThrottledError) as exc:
        logger.warning("cannot cost %s: %s", job_id, exc, extra={"job_id": job_id})
        return None
    record = record_cost(ddb, table, job_id, detail["jobId"], cost)
    logger.info(
        "costed" if record else "cost not recorded (recorded already, or not this record's job)",
        extra={"job_id": job_id, "cost": cost, "batch_calls": counter.calls},
    )
    return record


def runnable_seconds(detail: Mapping[str, Any]) -> float | None:
    """Seconds from submission to the first attempt's start: time queued (SUBMITTED, PENDING,
    RUNNABLE, STARTING), the figure "why is it not running" is about."""
    attempts = detail.get("attempts") or []
    created = detail.get("createdAt")
    started = attempts[0].get("startedAt") if attempts else detail.get("startedAt")
    if not created or not started:
        return None
    return max(0.0, (float(started) - float(created)) / 1000)
