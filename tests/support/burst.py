"""A burst of uploads through the real ingest code, in simulated time.

The ingest code runs for real (`submitter.ingest_queue.handle_batch`,
`submitter.ingest.handle_event`) against moto's S3 and DynamoDB; what is simulated is *time*
and *Batch*:

- `SimClock` is the submitter's clock and its `sleep` (backoff sleeps advance it, nothing waits);
  every moto request advances it by a fixed latency (a botocore `before-call` hook).
- `ThrottlingBatch` answers SubmitJob / ListJobs / TerminateJob, at most `tps` calls in any whole
  simulated second (AWS Batch: 50 TPS per account, a fixed quota), and beyond it raises what Batch
  answers: HTTP 429 `TooManyRequestsException` (AWS re:Post knowledge center
  "aws-batch-requests-error": "Too Many Requests (Service: AWSBatch; Status Code: 429; Error Code:
  TooManyRequestsException)").
- `run_queue_path` plays the deployed path: S3 -> SQS -> event source mapping with at most
  `concurrency` invocations of at most `batch_size` messages; failed items come back after the
  visibility timeout, and go to the dead letters after `max_receives` receives.
- `run_async_path` plays the path before it: S3 invokes the Lambda asynchronously once per upload,
  at any concurrency; a function error is retried twice, 1 then 2 minutes later, then the event goes
  to the dead-letter queue (Lambda developer guide, invocation-async-error-handling).

Concurrency is modelled by giving each invocation the time its worker is free and running it to
its end before the next; the throttle counts calls per simulated second whatever the order in
which they are made, so interleaving is approximated, not replayed call by call.
"""

from __future__ import annotations

import heapq
import itertools
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from config.records import utc_now
from submitter.ingest import handle_event
from submitter.ingest_queue import handle_batch
from submitter.local.ingest_queue import queue_event, queue_message
from submitter.settings import Settings
from submitter.submission import Runtime

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:batchscore-ingest"
ASYNC_RETRY_DELAYS = (60.0, 120.0)  # Lambda: 1 minute before the 1st retry, 2 before the 2nd


@dataclass
class SimClock:
    start: datetime = field(default_factory=utc_now)
    seconds: float = 0.0

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds


class ThrottlingBatch:
    """The Batch API calls the ingest makes, at `tps` calls per simulated second per account."""

    def __init__(self, clock: SimClock, *, tps: int = 50, latency: float = 0.1) -> None:
        self.clock, self.tps, self.latency = clock, tps, latency
        self.calls: Counter[int] = Counter()  # whole simulated second -> calls accepted
        self.throttles = 0
        self.submitted: list[str] = []  # job names, one per accepted SubmitJob
        self._by_name: dict[str, str] = {}

    def _call(self, operation: str) -> None:
        self.clock.sleep(self.latency)
        second = int(self.clock.seconds)
        if self.calls[second] >= self.tps:
            self.throttles += 1
            raise ClientError(
                {
                    "Error": {"Code": "TooManyRequestsException", "Message": "Too Many Requests"},
                    "ResponseMetadata": {"HTTPStatusCode": 429},
                },
                operation,
            )
        self.calls[second] += 1

    def submit_job(self, **request: Any) -> dict[str, Any]:
        self._call("SubmitJob")
        job_id = str(uuid.uuid4())
        self.submitted.append(request["jobName"])
        self._by_name[request["jobName"]] = job_id
        return {"jobId": job_id, "jobName": request["jobName"]}

    def list_jobs(self, **request: Any) -> dict[str, Any]:
        self._call("ListJobs")
        (name,) = request["filters"][0]["values"]
        found = self._by_name.get(name)
        return {"jobSummaryList": [{"jobId": found, "jobName": name}] if found else []}

    def terminate_job(self, **request: Any) -> dict[str, Any]:
        self._call("TerminateJob")
        return {}


@dataclass
class BurstFigures:
    uploads: int
    jobs: int = 0  # accepted SubmitJob calls
    duplicated: int = 0  # accepted SubmitJob calls beyond one per job name
    dead_letters: int = 0  # uploads given up on (the dead-letter queue)
    throttles: int = 0
    invocations: int = 0
    redeliveries: int = 0  # receives (or invocations) of an upload after its first
    seconds: float = 0.0  # simulated: the first upload to the last invocation's end

    def line(self, path: str) -> str:
        return (
            f"{path}: {self.uploads} uploads -> {self.jobs} jobs, {self.duplicated} duplicated, "
            f"{self.dead_letters} dead letters; {self.throttles} throttled Batch calls, "
            f"{self.invocations} invocations, {self.redeliveries} redeliveries, "
            f"{self.seconds:.0f} s simulated"
        )


@dataclass
class Burst:
    """Clients and settings for a burst; `events[i]` is the S3 notification of upload i, made at
    simulated second `times[i]`."""

    s3: Any
    ddb: Any
    settings: Settings
    events: list[dict[str, Any]]
    times: list[float]


def advance_on_each_request(client: Any, clock: SimClock, latency: float) -> None:
    client.meta.events.register("before-call", lambda **_: clock.sleep(latency))


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """The backoff's jitter draws from `random`: make it repeatable, then put the state back."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def _figures(burst: Burst, batch: ThrottlingBatch, clock: SimClock, **counts: int) -> BurstFigures:
    names = Counter(batch.submitted)
    return BurstFigures(
        uploads=len(burst.events),
        jobs=len(names),
        duplicated=sum(count - 1 for count in names.values()),
        throttles=batch.throttles,
        seconds=clock.seconds,
        **counts,
    )


def _runtime(clock: SimClock) -> Runtime:
    return Runtime(clock=clock, sleep=clock.sleep)


def run_queue_path(
    burst: Burst,
    clock: SimClock,
    batch: ThrottlingBatch,
    *,
    concurrency: int = 10,
    batch_size: int = 10,
    visibility: float = 360.0,
    max_receives: int = 5,
    function_timeout: float = 60.0,
) -> BurstFigures:
    """S3 -> SQS -> Lambda (event source mapping with maximum_concurrency)."""
    visible: list[tuple[float, int]] = [(t, i) for i, t in enumerate(burst.times)]
    heapq.heapify(visible)
    receives: Counter[int] = Counter()
    workers = [(0.0, w) for w in range(concurrency)]
    dead = invocations = 0
    while visible:
        free_at, worker = heapq.heappop(workers)
        start = max(free_at, visible[0][0])
        taken: list[int] = []
        while visible and visible[0][0] <= start and len(taken) < batch_size:
            taken.append(heapq.heappop(visible)[1])
        clock.seconds = start
        deadline = start + function_timeout

        def remaining_millis(deadline: float = deadline) -> int:
            return int((deadline - clock.seconds) * 1000)

        records = []
        for index in taken:
            receives[index] += 1
            records.append(
                queue_message(
                    burst.events[index],
                    queue_arn=QUEUE_ARN,
                    region="us-east-1",
                    receive_count=receives[index],
                    message_id=str(index),
                )
            )
        response = handle_batch(
            queue_event(records),
            s3=burst.s3,
            ddb=burst.ddb,
            batch=batch,
            settings=burst.settings,
            runtime=_runtime(clock),
            remaining_millis=remaining_millis,
        )
        invocations += 1
        failed = {int(item["itemIdentifier"]) for item in response["batchItemFailures"]}
        if clock.seconds > deadline:  # Lambda would have killed it: every message comes back
            failed = set(taken)
        for index in failed:
            if receives[index] >= max_receives:
                dead += 1
            else:
                heapq.heappush(visible, (start + visibility, index))
        heapq.heappush(workers, (clock.seconds, worker))
    clock.seconds = max(t for t, _ in workers)
    redeliveries = sum(receives.values()) - len(receives)
    return _figures(
        burst, batch, clock, dead_letters=dead, invocations=invocations, redeliveries=redeliveries
    )


def run_async_path(burst: Burst, clock: SimClock, batch: ThrottlingBatch) -> BurstFigures:
    """S3 -> Lambda, asynchronous invocation: unbounded concurrency, two retries on error."""
    order = itertools.count()
    pending = [(t, next(order), i, 0) for i, t in enumerate(burst.times)]
    heapq.heapify(pending)
    dead = invocations = redeliveries = 0
    end = 0.0
    while pending:
        start, _, index, attempt = heapq.heappop(pending)
        clock.seconds = start
        invocations += 1
        redeliveries += attempt > 0
        try:
            _ingest(burst, batch, clock)(burst.events[index])
        except Exception:  # noqa: BLE001 - any function error is what Lambda retries
            if attempt < len(ASYNC_RETRY_DELAYS):
                retry_at = clock.seconds + ASYNC_RETRY_DELAYS[attempt]
                heapq.heappush(pending, (retry_at, next(order), index, attempt + 1))
            else:
                dead += 1
        end = max(end, clock.seconds)
    clock.seconds = end
    return _figures(
        burst, batch, clock, dead_letters=dead, invocations=invocations, redeliveries=redeliveries
    )


def _ingest(
    burst: Burst, batch: ThrottlingBatch, clock: SimClock
) -> Callable[[dict[str, Any]], object]:
    return lambda event: handle_event(
        event,
        s3=burst.s3,
        ddb=burst.ddb,
        batch=batch,
        settings=burst.settings,
        runtime=_runtime(clock),
    )
