"""A local AWS Batch: the calls the submitter makes on a boto3 `batch` client, run as processes.

`LocalBatch` has the boto3 client's method names, keyword arguments, return shapes and errors
(`botocore.exceptions.ClientError` with code `ClientException`) for `submit_job`, `describe_jobs`,
`list_jobs`, `terminate_job`, `cancel_job`, `describe_job_queues`, `describe_job_definitions` and
`register_job_definition`, so code written against boto3 takes it unchanged. `submitter.local.api`
serves the same object over Batch's REST protocol for boto3 clients in other processes.

What it honours, as Batch does: queue priority (a runnable job of a higher-priority queue starts
first, FIFO within a queue), a vCPU capacity standing for the compute environments, the retry
strategy's `evaluateOnExit` rules (`submitter.local.retry`), attempt timeouts (SIGTERM, SIGKILL
after a grace period, never retried), array jobs (children `<parent>:<index>`, the parent's status
derived from theirs), `Ref::` parameters, and a "Batch Job State Change" event on every status
change after submission, delivered in order on one thread to `on_event`. This module checks and
answers the calls; `submitter.local.scheduler` runs the jobs.
"""

# The Batch API's keyword arguments are camelCase (jobName, jobQueue...): boto3's names, kept.
# ruff: noqa: N803

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from config.deployment import DEFAULT_QUEUE_COMPUTE_ENVIRONMENTS, DEFAULT_QUEUE_PRIORITIES
from config.retry import EXIT_TRANSIENT
from submitter.local import jobs
from submitter.local.image import Image
from submitter.local.image import load as load_image
from submitter.local.jobs import RUNNING, Job, JobDefinition, JobQueue
from submitter.local.retry import rules_problem
from submitter.local.scheduler import EventHandler, LogHandler, Scheduler

JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
MAX_ARRAY_SIZE = 10_000
MAX_ATTEMPTS = 10
OK = {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}
IGNORED_SUBMIT_ARGS = frozenset({"propagateTags", "shareIdentifier", "schedulingPriorityOverride"})


class ClientException(ClientError):  # noqa: N818 - boto3's name for it
    """Batch's answer to a bad request, as boto3 raises it (client.exceptions.ClientException)."""

    def __init__(self, message: str, operation: str) -> None:
        super().__init__(
            {
                "Error": {"Code": "ClientException", "Message": message},
                "ResponseMetadata": {
                    "RequestId": "",
                    "HostId": "",
                    "HTTPStatusCode": 400,
                    "HTTPHeaders": {},
                    "RetryAttempts": 0,
                },
            },
            operation,
        )


def _environment(definition: JobDefinition, overrides: Mapping[str, Any]) -> dict[str, str]:
    """The definition's environment with the container overrides' on top."""
    environment = dict(definition.environment)
    for pair in overrides.get("environment") or []:
        if pair["name"].startswith("AWS_BATCH"):
            message = "environment variable names starting with AWS_BATCH are reserved"
            raise ClientException(message, "SubmitJob")
        environment[pair["name"]] = pair["value"]
    return environment


def _resources(definition: JobDefinition, overrides: Mapping[str, Any]) -> tuple[float, int]:
    """vCPUs and memory (MiB): the definition's, unless the container overrides set them."""
    vcpus, memory = definition.vcpus, definition.memory_mib
    for requirement in overrides.get("resourceRequirements") or []:
        if requirement["type"] == "VCPU":
            vcpus = float(requirement["value"])
        elif requirement["type"] == "MEMORY":
            memory = int(requirement["value"])
    return vcpus, memory


def default_queues() -> list[JobQueue]:
    """The deployment's queues (config.deployment): names, priorities, compute environments."""
    return [
        JobQueue(name, priority, DEFAULT_QUEUE_COMPUTE_ENVIRONMENTS.get(name, ("local",)))
        for name, priority in DEFAULT_QUEUE_PRIORITIES.items()
    ]


class LocalBatch:
    """A local AWS Batch with a boto3-client-shaped interface; see the module's docstring."""

    def __init__(
        self,
        *,
        queues: Iterable[JobQueue] | None = None,
        job_definitions: Iterable[JobDefinition] | None = None,
        max_vcpus: float = 2,
        env: Mapping[str, str] | None = None,
        log_dir: Path | None = None,
        on_event: EventHandler | None = None,
        on_log: LogHandler | None = None,
        python: str = sys.executable,
        cwd: Path | None = None,
        image: Image | None = None,
        kill_grace_seconds: float = 30,
        min_timeout_seconds: float = 60,
        poll_seconds: float = 0.02,
    ) -> None:
        self.exceptions = type("Exceptions", (), {"ClientException": ClientException})
        self._queues = {queue.name: queue for queue in (queues or default_queues())}
        self._environment_states: dict[str, tuple[str, str]] = {}
        self._definitions: dict[str, list[JobDefinition]] = {}
        for definition in job_definitions or [jobs.default_job_definition()]:
            self._definitions.setdefault(definition.name, []).append(definition)
        self._min_timeout = min_timeout_seconds
        self._own_log_dir = log_dir is None
        self._scheduler = Scheduler(
            max_vcpus=max_vcpus,
            env=dict(env or {}),
            log_dir=Path(log_dir or tempfile.mkdtemp(prefix="batchscore-logs-")),
            python=python,
            cwd=cwd,
            image=image or load_image(),
            kill_grace_seconds=kill_grace_seconds,
            poll_seconds=poll_seconds,
            on_event=on_event,
            on_log=on_log,
        )
        self._jobs = self._scheduler.jobs
        self._lock = self._scheduler.lock

    @property
    def env(self) -> dict[str, str]:
        """Extra environment for every job process (endpoint, table); update it in place."""
        return self._scheduler.env

    @property
    def log_dir(self) -> Path:
        return self._scheduler.log_dir

    @property
    def max_vcpus(self) -> float:
        return self._scheduler.max_vcpus

    @property
    def on_event(self) -> EventHandler | None:
        """Called with each "Batch Job State Change" event, in order, on one thread."""
        return self._scheduler.on_event

    @on_event.setter
    def on_event(self, handler: EventHandler | None) -> None:
        self._scheduler.on_event = handler

    # -- the Batch API ---------------------------------------------------------------------------

    def submit_job(
        self,
        *,
        jobName: str,
        jobQueue: str,
        jobDefinition: str,
        parameters: Mapping[str, str] | None = None,
        arrayProperties: Mapping[str, Any] | None = None,
        retryStrategy: Mapping[str, Any] | None = None,
        timeout: Mapping[str, Any] | None = None,
        containerOverrides: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        dependsOn: list[Any] | None = None,
        **other: Any,
    ) -> dict[str, Any]:
        def fail(message: str) -> ClientException:
            return ClientException(message, "SubmitJob")

        unsupported = sorted(set(other) - IGNORED_SUBMIT_ARGS)
        unsupported += ["dependsOn"] if dependsOn else []
        if unsupported:
            raise fail(f"not supported by the local Batch: {', '.join(unsupported)}")
        if not JOB_NAME.match(jobName):
            raise fail("jobName: up to 128 letters, digits, hyphens and underscores")
        queue = self._queue(jobQueue, "SubmitJob")
        if queue.state != "ENABLED":
            raise fail(f"job queue {queue.name} is {queue.state}")
        definition = self._definition(jobDefinition, "SubmitJob")
        overrides = dict(containerOverrides or {})
        environment = _environment(definition, overrides)
        vcpus, memory = _resources(definition, overrides)
        strategy = dict(retryStrategy or definition.retry_strategy or {}) or None
        if strategy and not 1 <= int(strategy.get("attempts", 1)) <= MAX_ATTEMPTS:
            raise fail(f"retryStrategy.attempts must be between 1 and {MAX_ATTEMPTS}")
        if problem := rules_problem((strategy or {}).get("evaluateOnExit")):
            raise fail(problem)
        timeout_seconds = (timeout or {}).get("attemptDurationSeconds", definition.timeout_seconds)
        if timeout_seconds is not None and timeout_seconds < self._min_timeout:
            raise fail(f"timeout.attemptDurationSeconds must be at least {self._min_timeout:g}")
        size = (arrayProperties or {}).get("size")
        if size is not None and not 2 <= size <= MAX_ARRAY_SIZE:
            raise fail(f"arrayProperties.size must be between 2 and {MAX_ARRAY_SIZE}")
        merged = {**definition.parameters, **(parameters or {})}
        job = Job(
            id=str(uuid.uuid4()),
            name=jobName,
            queue=queue,
            definition=definition,
            parameters=merged,
            command=jobs.substitute(overrides.get("command") or definition.command, merged),
            environment=environment,
            retry_strategy=strategy,
            timeout_seconds=timeout_seconds,
            vcpus=vcpus,
            memory_mib=memory,
            tags=dict(tags or {}),
            array_size=size,
        )
        self._scheduler.add(job)
        return {"jobArn": job.arn, "jobName": job.name, "jobId": job.id, **OK}

    def describe_jobs(self, *, jobs: list[str]) -> dict[str, Any]:
        if len(jobs) > 100:
            raise ClientException("at most 100 jobs per call", "DescribeJobs")
        with self._lock:
            found = [self._jobs[job_id] for job_id in jobs if job_id in self._jobs]
            return {"jobs": [job.describe() for job in found], **OK}

    def list_jobs(
        self,
        *,
        jobQueue: str | None = None,
        arrayJobId: str | None = None,
        multiNodeJobId: str | None = None,
        jobStatus: str | None = None,
        maxResults: int | None = None,
        nextToken: str | None = None,
        filters: list[Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Batch's rules: one of queue or array parent; RUNNING jobs unless `jobStatus` says
        otherwise; with `filters`, every status (jobStatus ignored). Newest first."""
        if sum(ref is not None for ref in (jobQueue, arrayJobId, multiNodeJobId)) != 1:
            raise ClientException(
                "exactly one of jobQueue, arrayJobId and multiNodeJobId is required", "ListJobs"
            )
        with self._lock:
            if jobQueue is not None:
                queue = self._queue(jobQueue, "ListJobs")
                candidates = [j for j in self._jobs.values() if j.queue is queue and not j.parent]
            elif arrayJobId is not None:
                parent = self._jobs.get(arrayJobId)
                candidates = list(parent.children) if parent else []
            else:
                candidates = []
            if filters:
                predicates = [_filter(spec) for spec in filters]
                chosen = [job for job in candidates if all(p(job) for p in predicates)]
            else:
                chosen = [job for job in candidates if job.status == (jobStatus or RUNNING)]
            chosen.reverse()  # newest submitted first, also within one millisecond
            chosen.sort(key=lambda job: job.created_at, reverse=True)
            start = int(nextToken or 0)
            end = start + (maxResults or 100)
            page = {"jobSummaryList": [job.summary() for job in chosen[start:end]], **OK}
        if end < len(chosen):
            page["nextToken"] = str(end)
        return page

    def terminate_job(self, *, jobId: str, reason: str) -> dict[str, Any]:
        """Jobs not yet started fail at once; a started attempt is stopped (SIGTERM, then SIGKILL)
        and the job fails with `reason`, never retried. An array parent passes it on to its
        children."""
        with self._lock:
            self._scheduler.end(self._job(jobId, "TerminateJob"), reason, running_too=True)
        return dict(OK)

    def cancel_job(self, *, jobId: str, reason: str) -> dict[str, Any]:
        """Like terminate_job for jobs not yet STARTING; started jobs are left alone (the call still
        succeeds), as in Batch."""
        with self._lock:
            self._scheduler.end(self._job(jobId, "CancelJob"), reason, running_too=False)
        return dict(OK)

    def describe_job_queues(
        self, *, jobQueues: list[str] | None = None, **_: Any
    ) -> dict[str, Any]:
        queues = (
            [self._queue(ref, "DescribeJobQueues") for ref in jobQueues]
            if jobQueues
            else list(self._queues.values())
        )
        return {"jobQueues": [queue.describe() for queue in queues], **OK}

    def describe_compute_environments(
        self, *, computeEnvironments: list[str] | None = None, **_: Any
    ) -> dict[str, Any]:
        """The queues' compute environments (one host: each allows up to `max_vcpus`); an
        unknown name or ARN is left out, as Batch does."""
        with self._lock:
            known = {
                name: self._environment_states.get(name, ("ENABLED", "VALID"))
                for queue in self._queues.values()
                for name in queue.compute_environments
            }
            wanted = [jobs.name_from_arn(ref) for ref in computeEnvironments or list(known)]
            found = [
                jobs.ComputeEnvironment(name, self.max_vcpus, *known[name]).describe()
                for name in dict.fromkeys(wanted)
                if name in known
            ]
        return {"computeEnvironments": found, **OK}

    def set_compute_environment_state(
        self, name: str, *, state: str = "ENABLED", status: str = "VALID"
    ) -> None:
        """Disable a local environment or mark it INVALID (what an operator or a bad setting
        does on AWS), for `batchscore status` to explain."""
        with self._lock:
            self._environment_states[name] = (state, status)

    def describe_job_definitions(
        self,
        *,
        jobDefinitions: list[str] | None = None,
        jobDefinitionName: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        with self._lock:
            if jobDefinitions:
                found = [self._definition(ref, "DescribeJobDefinitions") for ref in jobDefinitions]
            else:
                found = [
                    definition
                    for name, revisions in self._definitions.items()
                    if jobDefinitionName in (None, name)
                    for definition in revisions
                ]
            return {"jobDefinitions": [definition.describe() for definition in found], **OK}

    def register_job_definition(
        self,
        *,
        jobDefinitionName: str,
        type: str = "container",
        parameters: Mapping[str, str] | None = None,
        containerProperties: Mapping[str, Any] | None = None,
        retryStrategy: Mapping[str, Any] | None = None,
        timeout: Mapping[str, Any] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        properties = dict(containerProperties or {})
        resources = {r["type"]: r["value"] for r in properties.get("resourceRequirements") or []}
        with self._lock:
            revisions = self._definitions.setdefault(jobDefinitionName, [])
            definition = JobDefinition(
                name=jobDefinitionName,
                command=tuple(properties.get("command") or ()),
                revision=len(revisions) + 1,
                parameters=dict(parameters or {}),
                environment={e["name"]: e["value"] for e in properties.get("environment") or []},
                retry_strategy=dict(retryStrategy) if retryStrategy else None,
                timeout_seconds=(timeout or {}).get("attemptDurationSeconds"),
                vcpus=float(resources.get("VCPU", 1)),
                memory_mib=int(resources.get("MEMORY", 2048)),
            )
            revisions.append(definition)
        return {
            "jobDefinitionName": definition.name,
            "jobDefinitionArn": definition.arn,
            "revision": definition.revision,
            **OK,
        }

    # -- beyond the Batch API: tests, the demo and `batchscore logs` -----------------------------

    def simulate_spot_reclaim(self, job_id: str, instance_id: str = jobs.INSTANCE_ID) -> None:
        """Lose the host of a running attempt: the process is killed at once and the attempt ends
        with "Host EC2 (instance ...) terminated." and no exit code (retried per the strategy)."""
        with self._lock:
            self._scheduler.reclaim(self._job(job_id, "SimulateSpotReclaim"), instance_id)

    def inject_exit(
        self, job_name: str, exit_code: int = EXIT_TRANSIENT, *, attempts: int = 1
    ) -> None:
        """Make the next `attempts` attempts of jobs named `job_name` exit with `exit_code` at
        once instead of running their command: a transient failure (exit 3) on demand, which
        the retry strategy then retries."""
        self._scheduler.inject_exit(job_name, exit_code, attempts)

    def wait(self, job_ids: Iterable[str], timeout: float | None = None) -> list[dict[str, Any]]:
        """Block until every job is SUCCEEDED or FAILED and its events were delivered; return the
        jobs' details. TimeoutError when that takes longer than `timeout` seconds."""
        ids = list(job_ids)
        with self._lock:
            for job_id in ids:
                self._job(job_id, "Wait")
        return self._scheduler.wait(ids, timeout)

    def attempt_logs(self, job_id: str) -> list[Path]:
        """The log files of a job's attempts, oldest first (an array parent: its children's)."""
        with self._lock:
            job = self._job(job_id, "Logs")
            members = job.children if job.is_parent else [job]
            streams = [a.log_stream for member in members for a in member.attempts]
            streams += [m.attempt.log_stream for m in members if m.attempt is not None]
        return [jobs.log_file(self.log_dir, stream) for stream in streams]

    def close(self) -> None:
        """Stop scheduling, kill the processes still running (no events for them), deliver the
        events already emitted, and remove the log directory if this executor created it."""
        self._scheduler.close()
        if self._own_log_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def __enter__(self) -> LocalBatch:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- lookups ---------------------------------------------------------------------------------

    def _queue(self, reference: str, operation: str) -> JobQueue:
        queue = self._queues.get(jobs.name_from_arn(reference))
        if queue is None:
            raise ClientException(f"job queue {reference} does not exist", operation)
        return queue

    def _definition(self, reference: str, operation: str) -> JobDefinition:
        name, _, revision = jobs.name_from_arn(reference).partition(":")
        revisions = self._definitions.get(name) or []
        if revision:
            revisions = [d for d in revisions if str(d.revision) == revision]
        if not revisions:
            raise ClientException(f"job definition {reference} does not exist", operation)
        return revisions[-1]

    def _job(self, job_id: str, operation: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise ClientException(f"job {job_id} does not exist", operation)
        return job


def _filter(spec: Mapping[str, Any]) -> Callable[[Job], bool]:
    """One of ListJobs' filters: JOB_NAME and JOB_DEFINITION (case-insensitive, a trailing `*`
    matches a prefix), BEFORE_CREATED_AT and AFTER_CREATED_AT (epoch milliseconds)."""
    name, values = spec["name"], [str(v) for v in spec.get("values") or []]

    def matches(value: str) -> bool:
        value = value.lower()
        return any(
            value.startswith(v.lower()[:-1]) if v.endswith("*") else value == v.lower()
            for v in values
        )

    if name == "JOB_NAME":
        return lambda job: matches(job.name)
    if name == "JOB_DEFINITION":
        return lambda job: matches(job.definition.arn) or matches(job.definition.name)
    if name == "BEFORE_CREATED_AT":
        return lambda job: all(job.created_at < int(v) for v in values)
    if name == "AFTER_CREATED_AT":
        return lambda job: all(job.created_at > int(v) for v in values)
    raise ClientException(f"unknown filter {name}", "ListJobs")
