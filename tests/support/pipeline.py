"""Helpers of the pipeline reliability tests: the submitter's real work functions over moto
(in-process `mock_aws`) and the local Batch, with at-least-once, reordering delivery in between.

`make_pipeline` (tests/reliability/pipeline/conftest.py) builds one `Pipeline` per test.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config import records
from config.status import JobStatus
from submitter import state_change
from submitter.local.executor import LocalBatch
from submitter.settings import Settings
from support.names import QUEUES
from support.submitter_aws import SubmitterWork, settings

# The "container" of the load tests: one line `<job id> <attempt> <pid>` appended to the file
# named by $RUNS_FILE per run (one small O_APPEND write: atomic between processes). `-S` skips
# site-packages: a trivial job starts in ~30 ms; importing boto3 would cost ~1.3 s of CPU each.
RUN_ONCE = (
    "import os, sys\n"
    "line = '%s %s %d\\n' % (sys.argv[1], os.environ['AWS_BATCH_JOB_ATTEMPT'], os.getpid())\n"
    "fd = os.open(os.environ['RUNS_FILE'], os.O_WRONLY | os.O_APPEND | os.O_CREAT)\n"
    "os.write(fd, line.encode())\n"
)
RUN_ONCE_COMMAND = ("python", "-S", "-c", RUN_ONCE, "Ref::job_id")


class SerialClient:
    """A boto3 client whose calls run one at a time.

    moto evaluates a DynamoDB condition and then writes, in Python, without a lock: two threads
    can both pass `attribute_not_exists`. DynamoDB makes each request atomic; serialising the
    requests gives moto the same property (the code under test still races between requests).
    """

    def __init__(self, client: Any, lock: threading.Lock | None = None) -> None:
        self._client = client
        self._lock = lock or threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return call


@dataclass
class DeliveryStats:
    delivered: int = 0
    duplicates: int = 0
    failures: int = 0  # invocations that raised (redelivered, as Lambda retries them)
    errors: list[str] = field(default_factory=list)


class ChaoticDelivery:
    """At-least-once, unordered delivery to a handler from `workers` threads.

    Each event put in is delivered once, plus a second time with probability `duplicate_rate`;
    workers take a random pending event (so a later event may overtake an earlier one); an
    invocation that raises is delivered again after `retry_delay` seconds (Lambda's async retry),
    up to `max_failures` times in all.
    """

    def __init__(
        self,
        handler: Callable[[dict[str, Any]], Any],
        *,
        workers: int = 8,
        duplicate_rate: float = 0.2,
        seed: int = 7,
        retry_delay: float = 0.05,
        max_failures: int = 10_000,
    ) -> None:
        self._handler = handler
        self._rng = random.Random(seed)
        self._duplicate_rate = duplicate_rate
        self._retry_delay = retry_delay
        self._max_failures = max_failures
        self._pending: list[dict[str, Any]] = []
        self._in_flight = 0
        self._closed = False
        self._cond = threading.Condition()
        self.stats = DeliveryStats()
        self._threads = [
            threading.Thread(target=self._work, name=f"delivery-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def put(self, event: dict[str, Any]) -> None:
        with self._cond:
            copies = 2 if self._rng.random() < self._duplicate_rate else 1
            self.stats.duplicates += copies - 1
            for _ in range(copies):
                self._pending.append(json.loads(json.dumps(event)))  # each delivery its own copy
            self._cond.notify_all()

    def put_all(self, events: Iterable[dict[str, Any]]) -> None:
        for event in events:
            self.put(event)

    def drain(self, timeout: float) -> None:
        """Wait until nothing is pending or in flight."""
        with self._cond:
            if not self._cond.wait_for(lambda: not self._pending and not self._in_flight, timeout):
                raise TimeoutError(f"{len(self._pending)} deliveries pending after {timeout} s")

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    return
                index = self._rng.randrange(len(self._pending))
                self._pending[index], self._pending[-1] = self._pending[-1], self._pending[index]
                event = self._pending.pop()
                self._in_flight += 1
            try:
                self._handler(event)
                failed = None
            except Exception as exc:  # noqa: BLE001 - a failed invocation, as Lambda sees it
                failed = exc
            with self._cond:
                self.stats.delivered += 1
                if failed is not None:
                    self.stats.failures += 1
                    self.stats.errors.append(repr(failed)[:300])
                    if self.stats.failures <= self._max_failures:
                        threading.Timer(self._retry_delay, self._redeliver, (event,)).start()
                        self._in_flight += 1  # until the timer puts it back
                self._in_flight -= 1
                self._cond.notify_all()

    def _redeliver(self, event: dict[str, Any]) -> None:
        with self._cond:
            self._pending.append(event)
            self._in_flight -= 1
            self._cond.notify_all()


@dataclass
class Pipeline(SubmitterWork):
    """moto S3 + DynamoDB, the local Batch, and the submitter's real work functions."""

    local_batch: LocalBatch
    runs_file: Path
    batch_events: list[dict[str, Any]]

    def state(self, event: dict[str, Any]) -> Any:
        return state_change.handle_event(
            event, ddb=self.ddb, table=self.settings.table, batch=self.batch
        )

    def records(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.settings.table, "ConsistentRead": True}
        while True:
            page = self.ddb.scan(**kwargs)
            items += [records.from_item(item) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def batch_jobs(self) -> list[dict[str, Any]]:
        """Every (non-child) Batch job of every queue, any status, with its details."""
        summaries = []
        for queue in QUEUES:
            token = None
            while True:
                kwargs: dict[str, Any] = {
                    "jobQueue": queue,
                    "filters": [{"name": "JOB_NAME", "values": ["batchscore-*"]}],
                    "maxResults": 100,
                }
                if token:
                    kwargs["nextToken"] = token
                page = self.local_batch.list_jobs(**kwargs)
                summaries += page["jobSummaryList"]
                token = page.get("nextToken")
                if not token:
                    break
        ids = [s["jobId"] for s in summaries]
        details = []
        for start in range(0, len(ids), 100):
            details += self.local_batch.describe_jobs(jobs=ids[start : start + 100])["jobs"]
        return details

    def runs(self) -> list[tuple[str, int]]:
        """(job id, attempt) of every run the trivial container made."""
        if not self.runs_file.exists():
            return []
        lines = self.runs_file.read_text().splitlines()
        return [(line.split()[0], int(line.split()[1])) for line in lines]


def pipeline_settings(**overrides: Any) -> Settings:
    """The deployment's settings, with the local Batch's queues named after the priorities."""
    return settings(**{"queues": {q: q for q in QUEUES}, **overrides})


def status_trace(history: list[dict[str, Any]]) -> list[str]:
    return [entry["status"] for entry in history]


def ranks_never_decrease(statuses: list[str]) -> bool:
    ranks = [JobStatus(s).rank for s in statuses]
    return all(a <= b for a, b in itertools.pairwise(ranks))


class BatchProxy:
    """A Batch client (the local Batch) with faults on some calls: subclasses override them."""

    def __init__(self, batch: Any) -> None:
        self._batch = batch

    def __getattr__(self, name: str) -> Any:
        return getattr(self._batch, name)
