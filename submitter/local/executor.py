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
change after submission, delivered in order on one thread to `on_event`.
"""

# The Batch API's keyword arguments are camelCase (jobName, jobQueue...): boto3's names, kept.
# ruff: noqa: N803

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from config import env as env_names
from config.deployment import DEFAULT_QUEUE_COMPUTE_ENVIRONMENTS, DEFAULT_QUEUE_PRIORITIES
from submitter.local import jobs
from submitter.local.jobs import (
    ACTIVE,
    FAILED,
    PENDING,
    RUNNABLE,
    RUNNING,
    STARTING,
    SUBMITTED,
    SUCCEEDED,
    TERMINAL,
    Attempt,
    Job,
    JobDefinition,
    JobQueue,
    Stop,
)
from submitter.local.retry import should_retry

logger = logging.getLogger(__name__)

JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
MAX_ARRAY_SIZE = 10_000
MAX_ATTEMPTS = 10
OK = {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}
IGNORED_SUBMIT_ARGS = frozenset({"propagateTags", "shareIdentifier", "schedulingPriorityOverride"})

EventHandler = Callable[[dict[str, Any]], None]
LogHandler = Callable[[str, Path], None]


class ClientException(ClientError):  # noqa: N818 - boto3's name for it
    """Batch's answer to a bad request, as boto3 raises it (client.exceptions.ClientException)."""

    def __init__(self, message: str, operation: str) -> None:
        super().__init__(
            {
                "Error": {"Code": "ClientException", "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
            operation,
        )


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
        kill_grace_seconds: float = 30,
        min_timeout_seconds: float = 60,
        poll_seconds: float = 0.02,
    ) -> None:
        self.exceptions = type("Exceptions", (), {"ClientException": ClientException})
        self.max_vcpus = max_vcpus
        self.env = dict(env or {})  # extra environment for every job process (endpoint, table)
        self.on_event = on_event
        self.on_log = on_log
        self._queues = {queue.name: queue for queue in (queues or default_queues())}
        self._definitions: dict[str, list[JobDefinition]] = {}
        for definition in job_definitions or [jobs.default_job_definition()]:
            self._definitions.setdefault(definition.name, []).append(definition)
        self._own_log_dir = log_dir is None
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="batchscore-logs-"))
        self._python = python
        self._cwd = cwd
        self._grace = kill_grace_seconds
        self._min_timeout = min_timeout_seconds
        self._poll = poll_seconds
        self._jobs: dict[str, Job] = {}
        self._queued = itertools.count(1)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._closing = False
        self._outbox = _Outbox()
        self._scheduler = threading.Thread(target=self._run, name="local-batch", daemon=True)
        self._scheduler.start()

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
        environment = dict(definition.environment)
        for pair in overrides.get("environment") or []:
            if pair["name"].startswith("AWS_BATCH"):
                raise fail("environment variable names starting with AWS_BATCH are reserved")
            environment[pair["name"]] = pair["value"]
        vcpus, memory = definition.vcpus, definition.memory_mib
        for requirement in overrides.get("resourceRequirements") or []:
            if requirement["type"] == "VCPU":
                vcpus = float(requirement["value"])
            elif requirement["type"] == "MEMORY":
                memory = int(requirement["value"])
        strategy = dict(retryStrategy or definition.retry_strategy or {}) or None
        if strategy and not 1 <= int(strategy.get("attempts", 1)) <= MAX_ATTEMPTS:
            raise fail(f"retryStrategy.attempts must be between 1 and {MAX_ATTEMPTS}")
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
        with self._lock:
            self._jobs[job.id] = job
            self._changed.notify_all()
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
            self._end(self._job(jobId, "TerminateJob"), reason, running_too=True)
        return dict(OK)

    def cancel_job(self, *, jobId: str, reason: str) -> dict[str, Any]:
        """Like terminate_job for jobs not yet STARTING; started jobs are left alone (the call still
        succeeds), as in Batch."""
        with self._lock:
            self._end(self._job(jobId, "CancelJob"), reason, running_too=False)
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
            job = self._job(job_id, "SimulateSpotReclaim")
            if job.status in ACTIVE and job.process is not None:
                reason = jobs.host_terminated(instance_id)
                self._stop(job, Stop(reason, retryable=True, lost_host=True), kill=True)

    def wait(self, job_ids: Iterable[str], timeout: float | None = None) -> list[dict[str, Any]]:
        """Block until every job is SUCCEEDED or FAILED and its events were delivered; return the
        jobs' details. TimeoutError when that takes longer than `timeout` seconds."""
        ids = list(job_ids)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            for job_id in ids:
                self._job(job_id, "Wait")

            def done() -> bool:
                return all(self._jobs[job_id].status in TERMINAL for job_id in ids)

            if not self._changed.wait_for(done, _remaining(deadline)):
                states = {job_id: self._jobs[job_id].status for job_id in ids}
                raise TimeoutError(f"jobs still running after {timeout} s: {states}")
            details = [self._jobs[job_id].describe() for job_id in ids]
        if not self._outbox.drain(_remaining(deadline)):
            raise TimeoutError("state-change events still being delivered")
        return details

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
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._changed.notify_all()
        self._scheduler.join()
        with self._lock:
            for job in self._jobs.values():
                if job.process is not None:
                    _signal(job.process, signal.SIGKILL)
                    job.process.wait()
                    if job.log is not None:
                        job.log.close()
                    job.process = job.log = None
        self._outbox.close()
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

    # -- the scheduler (its own thread; every change under the lock) ----------------------------

    def _run(self) -> None:
        with self._changed:
            while not self._closing:
                try:
                    self._tick()
                except Exception:
                    logger.exception("local Batch: scheduler tick failed")
                self._changed.wait(self._poll)

    def _tick(self) -> None:
        for job in [j for j in self._jobs.values() if j.status == SUBMITTED]:
            self._evaluate(job)
        for job in [j for j in self._jobs.values() if j.process is not None]:
            self._supervise(job)
        self._schedule()

    def _evaluate(self, job: Job) -> None:
        """SUBMITTED -> RUNNABLE (no dependencies here); an array parent spawns its children and
        follows them (PENDING once one is RUNNABLE)."""
        if not job.is_parent:
            self._set_status(job, RUNNABLE)
            return
        for index in range(job.array_size or 0):
            child = Job(
                id=f"{job.id}:{index}",
                name=job.name,
                queue=job.queue,
                definition=job.definition,
                parameters=dict(job.parameters),
                command=list(job.command),
                environment=dict(job.environment),
                retry_strategy=job.retry_strategy,
                timeout_seconds=job.timeout_seconds,
                vcpus=job.vcpus,
                memory_mib=job.memory_mib,
                tags=dict(job.tags),
                array_index=index,
                parent=job,
            )
            job.children.append(child)
            self._jobs[child.id] = child
        for child in job.children:
            self._set_status(child, RUNNABLE)

    def _schedule(self) -> None:
        """Start runnable jobs, higher queue priority first and FIFO within a queue, while the
        capacity holds; a job larger than what is free waits (a smaller one may pass it)."""
        free = self.max_vcpus - sum(j.vcpus for j in self._jobs.values() if j.status in ACTIVE)
        runnable = [j for j in self._jobs.values() if j.status == RUNNABLE]
        runnable.sort(key=lambda j: (-j.queue.priority, j.queued_seq))
        for job in runnable:
            if job.vcpus <= free:
                free -= job.vcpus
                self._start(job)

    def _start(self, job: Job) -> None:
        self._set_status(job, STARTING)
        number = len(job.attempts) + 1
        attempt = Attempt(started_at=jobs.now_ms(), log_stream=job.new_log_stream())
        path = jobs.log_file(self.log_dir, attempt.log_stream)
        path.parent.mkdir(parents=True, exist_ok=True)
        log = path.open("ab")
        try:
            process = subprocess.Popen(
                jobs.local_argv(job.command, self._python),
                env=self._process_env(job, number),
                cwd=self._cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: signals reach its children too
            )
        except OSError as exc:
            log.close()
            attempt.stopped_at = attempt.started_at
            attempt.reason = f"CannotStartContainerError: {exc}"[:255]
            attempt.status_reason = "Task failed to start"
            self._attempt_ended(job, attempt, retryable=True)
            return
        job.attempt, job.process, job.log = attempt, process, log
        job.deadline = time.monotonic() + job.timeout_seconds if job.timeout_seconds else None
        job.started_at = attempt.started_at
        self._set_status(job, RUNNING)

    def _process_env(self, job: Job, attempt_number: int) -> dict[str, str]:
        variables = {
            **os.environ,
            **self.env,
            **job.environment,
            env_names.BATCH_JOB_ID: job.id,
            env_names.BATCH_JOB_ATTEMPT: str(attempt_number),
            env_names.BATCH_QUEUE_NAME: job.queue.name,
            env_names.BATCH_COMPUTE_ENVIRONMENT: job.queue.compute_environments[0],
        }
        variables.pop(env_names.BATCH_ARRAY_INDEX, None)
        if job.array_index is not None:
            variables[env_names.BATCH_ARRAY_INDEX] = str(job.array_index)
        return variables

    def _supervise(self, job: Job) -> None:
        assert job.process is not None
        code = job.process.poll()
        if code is not None:
            self._finish(job, code)
            return
        now = time.monotonic()
        if job.stop is None and job.deadline is not None and now >= job.deadline:
            self._stop(job, Stop(jobs.TIMED_OUT, retryable=False))
        elif job.stop is not None and job.stop.kill_at is not None and now >= job.stop.kill_at:
            job.stop.kill_at = None
            _signal(job.process, signal.SIGKILL)

    def _stop(self, job: Job, stop: Stop, *, kill: bool = False) -> None:
        job.stop = stop
        if job.process is None:
            return
        if kill:
            _signal(job.process, signal.SIGKILL)
        else:
            stop.kill_at = time.monotonic() + self._grace
            _signal(job.process, signal.SIGTERM)

    def _finish(self, job: Job, returncode: int) -> None:
        assert job.attempt is not None
        assert job.log is not None
        job.log.close()
        attempt, stop = job.attempt, job.stop
        job.attempt = job.process = job.log = job.stop = job.deadline = None
        attempt.stopped_at = jobs.now_ms()
        # A container killed by signal N exits with 128 + N, which is what Batch reports.
        exit_code = returncode if returncode >= 0 else 128 - returncode
        attempt.exit_code = None if stop and stop.lost_host else exit_code
        attempt.status_reason = stop.status_reason if stop else jobs.EXITED
        if stop is None and exit_code == 0:
            job.attempts.append(attempt)
            self._ship_log(attempt)
            self._set_status(job, SUCCEEDED, jobs.EXITED)
            return
        self._attempt_ended(job, attempt, retryable=stop is None or stop.retryable)

    def _attempt_ended(self, job: Job, attempt: Attempt, *, retryable: bool) -> None:
        job.attempts.append(attempt)
        self._ship_log(attempt)
        if retryable and should_retry(
            job.retry_strategy,
            len(job.attempts),
            exit_code=attempt.exit_code,
            reason=attempt.reason,
            status_reason=attempt.status_reason,
        ):
            job.status_reason = None
            self._set_status(job, RUNNABLE)
        else:
            self._set_status(job, FAILED, attempt.status_reason)

    def _end(self, job: Job, reason: str, *, running_too: bool) -> None:
        """terminate_job / cancel_job on one job, or on every child of an array parent."""
        if job.is_parent and job.children:
            job.stop = job.stop or Stop(reason, retryable=False)  # the parent's reason, once over
            for child in job.children:
                self._end(child, reason, running_too=running_too)
        elif job.status in (SUBMITTED, PENDING, RUNNABLE):
            self._set_status(job, FAILED, reason)
        elif job.status in ACTIVE and running_too and job.stop is None:
            self._stop(job, Stop(reason, retryable=False))

    def _set_status(self, job: Job, status: str, reason: str | None = None) -> None:
        job.status = status
        if reason is not None:
            job.status_reason = reason
        if status == RUNNABLE:
            job.queued_seq = next(self._queued)
        if status in TERMINAL:
            job.stopped_at = jobs.now_ms()
        if self.on_event is not None:
            self._outbox.put(_call(self.on_event, job.state_change_event()))
        self._changed.notify_all()
        if job.parent is not None:
            self._follow_children(job.parent)

    def _follow_children(self, parent: Job) -> None:
        """An array parent's status from its children's, as Batch derives it."""
        if parent.status in TERMINAL:
            return
        started = [c.started_at for c in parent.children if c.started_at is not None]
        parent.started_at = min(started) if started else None
        statuses = [child.status for child in parent.children]
        if all(status in TERMINAL for status in statuses):
            if all(status == SUCCEEDED for status in statuses):
                self._set_status(parent, SUCCEEDED, jobs.EXITED)
            else:
                reason = parent.stop.status_reason if parent.stop else jobs.CHILD_FAILED
                self._set_status(parent, FAILED, reason)
        elif parent.status == SUBMITTED:
            self._set_status(parent, PENDING)

    def _ship_log(self, attempt: Attempt) -> None:
        if self.on_log is not None:
            path = jobs.log_file(self.log_dir, attempt.log_stream)
            self._outbox.put(lambda: self.on_log(attempt.log_stream, path))  # type: ignore[misc]


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


def _call(handler: EventHandler, event: dict[str, Any]) -> Callable[[], None]:
    return lambda: handler(event)


def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(process.pid, signum)


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class _Outbox:
    """Runs callbacks (event delivery, log shipping) in order on one thread, outside the
    scheduler's lock, so a slow or failing handler never stalls or breaks scheduling."""

    def __init__(self) -> None:
        self._items: deque[Callable[[], None]] = deque()
        self._idle = threading.Condition()
        self._busy = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="local-batch-events", daemon=True)
        self._thread.start()

    def put(self, callback: Callable[[], None]) -> None:
        with self._idle:
            self._items.append(callback)
            self._idle.notify_all()

    def drain(self, timeout: float | None = None) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: not self._items and not self._busy, timeout)

    def close(self) -> None:
        with self._idle:
            self._closed = True
            self._idle.notify_all()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._idle:
                self._idle.wait_for(lambda: self._items or self._closed)
                if not self._items:
                    return
                callback = self._items.popleft()
                self._busy = True
            try:
                callback()
            except Exception:
                logger.exception("local Batch: an event or log handler failed")
            finally:
                with self._idle:
                    self._busy = False
                    self._idle.notify_all()
