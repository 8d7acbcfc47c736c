"""The local Batch's engine: runs jobs as processes, one scheduling thread, one lock.

Each tick (every `poll_seconds`, or at once when something changes) it moves submitted jobs to
RUNNABLE (an array parent spawns its children), supervises running processes (exit, timeout,
SIGTERM then SIGKILL), applies the retry strategy to a failed attempt, starts runnable jobs by queue
priority while the vCPU capacity holds, and derives array parents' status from their children's.
Every status change emits a state-change event; events and log shipping run in order on a second
thread (`_Outbox`), outside the lock, so a slow or failing handler never stalls scheduling.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from config import env
from submitter.local import jobs
from submitter.local.image import Image
from submitter.local.jobs import (
    ACTIVE,
    ENDED,
    FAILED,
    PENDING,
    RUNNABLE,
    RUNNING,
    STARTING,
    SUBMITTED,
    SUCCEEDED,
    Attempt,
    Job,
    Stop,
)
from submitter.local.retry import should_retry

logger = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], None]
LogHandler = Callable[[str, Path], None]


class Scheduler:
    """Owns the jobs (`jobs`, guarded by `lock`) and the processes running them."""

    def __init__(
        self,
        *,
        max_vcpus: float,
        env: dict[str, str],
        log_dir: Path,
        python: str,
        cwd: Path | None,
        image: Image,
        kill_grace_seconds: float,
        poll_seconds: float,
        on_event: EventHandler | None = None,
        on_log: LogHandler | None = None,
    ) -> None:
        self.max_vcpus = max_vcpus
        self.env = env  # extra environment for every job process (endpoint, table)
        self.log_dir = log_dir
        self.on_event = on_event
        self.on_log = on_log
        self.jobs: dict[str, Job] = {}
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._python = python
        self._cwd = cwd
        self._image = image
        self._grace = kill_grace_seconds
        self._poll = poll_seconds
        self._queued = itertools.count(1)
        self._closing = False
        self._faults: dict[str, deque[int]] = {}  # job name -> exit codes of its next attempts
        self._outbox = _Outbox()
        self._thread = threading.Thread(target=self._run, name="local-batch", daemon=True)
        self._thread.start()

    def add(self, job: Job) -> None:
        with self.lock:
            self.jobs[job.id] = job
            self.changed.notify_all()

    def reclaim(self, job: Job, instance_id: str) -> None:
        """Lose the host of a running attempt (a spot reclaim): SIGKILL, no exit code."""
        with self.lock:
            if job.status in ACTIVE and job.process is not None:
                reason = jobs.host_terminated(instance_id)
                self._stop(job, Stop(reason, retryable=True, lost_host=True), kill=True)

    def inject_exit(self, job_name: str, exit_code: int, attempts: int) -> None:
        """The next `attempts` attempts of jobs named `job_name` exit with `exit_code` at once,
        instead of running their command."""
        with self.lock:
            self._faults.setdefault(job_name, deque()).extend([exit_code] * attempts)

    def wait(self, job_ids: Iterable[str], timeout: float | None) -> list[dict[str, Any]]:
        """Block until every job is SUCCEEDED or FAILED and its events were delivered."""
        ids = list(job_ids)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.changed:

            def done() -> bool:
                return all(self.jobs[job_id].status in ENDED for job_id in ids)

            if not self.changed.wait_for(done, _remaining(deadline)):
                states = {job_id: self.jobs[job_id].status for job_id in ids}
                raise TimeoutError(f"jobs still running after {timeout} s: {states}")
            details = [self.jobs[job_id].describe() for job_id in ids]
        if not self._outbox.drain(_remaining(deadline)):
            raise TimeoutError("state-change events still being delivered")
        return details

    def close(self) -> None:
        """Stop scheduling, kill the processes still running (no events for them) and deliver
        the events already emitted."""
        with self.lock:
            if self._closing:
                return
            self._closing = True
            self.changed.notify_all()
        self._thread.join()
        with self.lock:
            for job in self.jobs.values():
                if job.process is not None:
                    _signal(job.process, signal.SIGKILL)
                    job.process.wait()
                    if job.log is not None:
                        job.log.close()
                    job.process = job.log = None
        self._outbox.close()

    def _run(self) -> None:
        with self.changed:
            while not self._closing:
                try:
                    self._tick()
                except Exception:
                    logger.exception("local Batch: scheduler tick failed")
                self.changed.wait(self._poll)

    def _tick(self) -> None:
        for job in [j for j in self.jobs.values() if j.status == SUBMITTED]:
            self._evaluate(job)
        for job in [j for j in self.jobs.values() if j.process is not None]:
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
            self.jobs[child.id] = child
        for child in job.children:
            self._set_status(child, RUNNABLE)

    def _schedule(self) -> None:
        """Start runnable jobs, higher queue priority first and FIFO within a queue, while the
        capacity holds; a job larger than what is free waits (a smaller one may pass it)."""
        free = self.max_vcpus - sum(j.vcpus for j in self.jobs.values() if j.status in ACTIVE)
        runnable = [j for j in self.jobs.values() if j.status == RUNNABLE]
        runnable.sort(key=lambda j: (-j.queue.priority, j.queued_seq))
        for job in runnable:
            if job.vcpus <= free:
                free -= job.vcpus
                self._start(job)

    def _start(self, job: Job) -> None:
        self._set_status(job, STARTING)
        number = len(job.attempts) + 1
        attempt = Attempt(
            started_at=jobs.now_ms(),
            log_stream=job.new_log_stream(),
            # One host: every attempt runs "on" its queue's first compute environment.
            task_arn=jobs.task_arn(job.queue.compute_environments[0]),
        )
        path = jobs.log_file(self.log_dir, attempt.log_stream)
        path.parent.mkdir(parents=True, exist_ok=True)
        log = path.open("ab")
        # What the container would run: the image's ENTRYPOINT + the job's command, from its
        # WORKDIR (the build context here), with its ENV under the job's own variables.
        run = self._image.local_run(job.command, host_env=os.environ, python=self._python)
        argv = run.argv
        faults = self._faults.get(job.name)
        if faults:
            code = faults.popleft()
            message = f"batchscore local: injected exit {code} instead of {argv[1:]}"
            argv = [self._python, "-c", f"import sys; print({message!r}); sys.exit({code})"]
        try:
            process = subprocess.Popen(
                argv,
                env=self._process_env(job, number, run.env),
                cwd=self._cwd or run.cwd,
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

    def _process_env(
        self, job: Job, attempt_number: int, image_env: dict[str, str]
    ) -> dict[str, str]:
        variables = {
            **image_env,  # the host's environment with the image's ENV over it
            **self.env,
            **job.environment,
            env.BATCH_JOB_ID: job.id,
            env.BATCH_JOB_ATTEMPT: str(attempt_number),
            env.BATCH_QUEUE_NAME: job.queue.name,
            env.BATCH_COMPUTE_ENVIRONMENT: job.queue.compute_environments[0],
        }
        variables.pop(env.BATCH_ARRAY_INDEX, None)
        if job.array_index is not None:
            variables[env.BATCH_ARRAY_INDEX] = str(job.array_index)
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

    def end(self, job: Job, reason: str, *, running_too: bool) -> None:
        """terminate_job (`running_too`) or cancel_job on one job, or on every child of an array
        parent."""
        with self.lock:
            self._end(job, reason, running_too=running_too)

    def _end(self, job: Job, reason: str, *, running_too: bool) -> None:
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
        if status in ENDED:
            job.stopped_at = jobs.now_ms()
        if self.on_event is not None:
            self._outbox.put(_call(self.on_event, job.state_change_event()))
        self.changed.notify_all()
        if job.parent is not None:
            self._follow_children(job.parent)

    def _follow_children(self, parent: Job) -> None:
        """An array parent's status from its children's, as Batch derives it."""
        if parent.status in ENDED:
            return
        started = [c.started_at for c in parent.children if c.started_at is not None]
        parent.started_at = min(started) if started else None
        statuses = [child.status for child in parent.children]
        if all(status in ENDED for status in statuses):
            if all(status == SUCCEEDED for status in statuses):
                self._set_status(parent, SUCCEEDED, jobs.EXITED)
            else:
                reason = parent.stop.status_reason if parent.stop else jobs.CHILD_FAILED
                self._set_status(parent, FAILED, reason)
        elif parent.status == SUBMITTED:
            self._set_status(parent, PENDING)
        # As in Batch, the parent is RUNNING once a child runs (its RUNNING event is what moves
        # the record: the children's own RUNNING events are filtered out, event_rules.py).
        if parent.status == PENDING and RUNNING in statuses:
            self._set_status(parent, RUNNING)

    def _ship_log(self, attempt: Attempt) -> None:
        on_log = self.on_log
        if on_log is not None:
            path = jobs.log_file(self.log_dir, attempt.log_stream)
            self._outbox.put(lambda: on_log(attempt.log_stream, path))


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
