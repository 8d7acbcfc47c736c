"""The embedded local stack: batchscore's AWS on a laptop, in one process.

- a moto server on 127.0.0.1 (a free port) for S3, DynamoDB and CloudWatch Logs, holding the
  versioned jobs bucket, a data bucket, the job table (`config.records.table_definition`) and the
  `/aws/batch/job` log group;
- an S3 event pump (`s3events`) handing each upload under `jobs/` to `on_upload`, the ingest side;
- the local Batch (`executor.LocalBatch`), its "Batch Job State Change" events going to
  `on_batch_event`, each finished attempt's output shipped to CloudWatch Logs as in Batch, and
  served over Batch's protocol (`api.BatchApi`) for boto3 clients in other processes.

`env` is what a process needs to use it all through plain boto3 (`AWS_ENDPOINT_URL`,
`AWS_ENDPOINT_URL_BATCH`, the batchscore names); job processes get it too. With a `state_file`,
the stack writes where it runs so other `batchscore` calls find it (`read_state`; the file is
readable by its owner only).

Both servers answer only requests that carry the stack's random `token` (`access`): it is the
access key id of `env` and of `client()`, so every boto3 (or AWS CLI, or pyarrow) client made from
them sends it in its signature. Cross-origin requests are refused and moto's permissive CORS is
switched off.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
import requests
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from config import env
from config.records import table_definition
from submitter.local import access, jobs, notifications
from submitter.local.api import BatchApi
from submitter.local.executor import LocalBatch, default_queues
from submitter.local.jobs import JobDefinition
from submitter.local.s3events import S3EventPump
from submitter.local.state import remove_state, write_state

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], object]  # what a handler returns is ignored
CREDENTIALS = {  # and the stack's own access key (its token) and secret key: `LocalStack.env`
    "AWS_DEFAULT_REGION": jobs.REGION,
    "AWS_REGION": jobs.REGION,  # what the C++ SDK under pyarrow's S3FileSystem reads
    "AWS_EC2_METADATA_DISABLED": "true",  # offline: never wait on the instance-metadata service
}
MAX_LOG_EVENTS = 5000  # per PutLogEvents call (the API takes up to 10,000)


class GuardedMotoServer(ThreadedMotoServer):
    """moto's threaded server on 127.0.0.1, a free port, behind `access.GuardedApp`: the token
    required, cross-origin requests refused, no CORS headers."""

    def __init__(self, token: str) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.guard = access.GuardedApp(DomainDispatcherApplication(create_backend_app), token)

    def _server_entry(self) -> None:
        self._server = make_server(
            self._ip_address, self._port, self.guard, True, request_handler=MotoRequestHandler
        )
        host, port = self.get_host_and_port()
        self.guard.origins = access.own_origins(f"http://{host}:{port}")
        self._server_ready_event.set()
        self._server.serve_forever()


@dataclass(frozen=True)
class StackNames:
    jobs_bucket: str = "batchscore-jobs"
    data_bucket: str = "batchscore-data"
    table: str = "batchscore-jobs"
    job_definition: str = "batchscore-job"
    log_group: str = "/aws/batch/job"
    jobs_prefix: str = "jobs/"


class LocalStack:
    """Start with `with LocalStack() as stack:` (or start()/stop()). `on_upload` and
    `on_batch_event` may be set before or after the start."""

    _running: LocalStack | None = None  # moto's backends are per process: one stack at a time

    def __init__(
        self,
        *,
        names: StackNames | None = None,
        max_vcpus: float = 2,
        on_upload: Handler | None = None,
        on_batch_event: Handler | None = None,
        job_definitions: Iterable[JobDefinition] | None = None,
        state_file: Path | None = None,
        poll_seconds: float = 0.1,
        batch_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.names = names or StackNames()
        self.on_upload = on_upload
        self.on_batch_event = on_batch_event
        self._max_vcpus = max_vcpus
        self._definitions = list(
            job_definitions or [jobs.default_job_definition(self.names.job_definition)]
        )
        self._state_file = state_file
        self._poll = poll_seconds
        self._batch_options = dict(batch_options or {})
        self._server: ThreadedMotoServer | None = None
        self._pump: S3EventPump | None = None
        self._api: BatchApi | None = None
        self._batch: LocalBatch | None = None
        self._logs: Any = None
        self._notify_env: dict[str, str] = {}  # the topic and the bus (local.notifications)
        self.endpoint_url = ""
        # Every request to either server must carry it: the access key id of `env`.
        self.token = access.new_token()
        self._secret_key = access.new_token()  # never checked: SigV4 needs one

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> LocalStack:
        if LocalStack._running is not None:
            raise RuntimeError("a local stack runs in this process already")
        LocalStack._running = self
        # moto's server logs every request through werkzeug: too chatty next to a live job table.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        try:
            self._server = GuardedMotoServer(self.token)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
            self._reset_moto()
            self._create_resources()
            self._logs = self.client("logs")
            self._batch = LocalBatch(
                queues=default_queues(),
                job_definitions=self._definitions,
                max_vcpus=self._max_vcpus,
                on_event=self._deliver_batch_event,
                on_log=self._ship_log,
                **self._batch_options,
            )
            self._api = BatchApi(self._batch, token=self.token)
            self._batch.env.update(self.env)
            self._pump = S3EventPump(
                self.client("s3"),
                self.names.jobs_bucket,
                self.names.jobs_prefix,
                lambda: self.on_upload,
                poll_seconds=self._poll,
                region=jobs.REGION,
            )
            self._pump.start()
            if self._state_file is not None:
                write_state(self._state_file, self.state())
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop everything started, in reverse order; the emulated AWS state is gone after."""
        if self._pump is not None:
            self._pump.close()
        if self._api is not None:
            self._api.close()
        if self._batch is not None:
            self._batch.close()
        if self._state_file is not None:
            remove_state(self._state_file)
        if self._server is not None:
            with contextlib.suppress(requests.RequestException):
                self._reset_moto()
            self._server.stop()
        self._pump = self._api = self._batch = self._server = None
        if LocalStack._running is self:
            LocalStack._running = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- what callers use ------------------------------------------------------------------------

    @property
    def batch(self) -> LocalBatch:
        """The local Batch, boto3-client-shaped (plus `wait`, `simulate_spot_reclaim`...)."""
        if self._batch is None:
            raise RuntimeError("the local stack is not running")
        return self._batch

    @property
    def batch_url(self) -> str:
        if self._api is None:
            raise RuntimeError("the local stack is not running")
        return self._api.url

    @property
    def queues(self) -> dict[str, str]:
        """{priority: queue name}, the value of BATCHSCORE_QUEUES."""
        return {queue.name: queue.name for queue in default_queues()}

    @property
    def env(self) -> dict[str, str]:
        """The environment under which boto3 and batchscore code use this stack."""
        return {
            **CREDENTIALS,
            "AWS_ACCESS_KEY_ID": self.token,
            "AWS_SECRET_ACCESS_KEY": self._secret_key,
            env.AWS_ENDPOINT_URL: self.endpoint_url,
            env.AWS_ENDPOINT_URL_BATCH: self.batch_url,
            env.TABLE_NAME: self.names.table,
            env.JOBS_BUCKET: self.names.jobs_bucket,
            env.JOB_DEFINITION: self.names.job_definition,
            env.QUEUES: json.dumps(self.queues),
            env.ALLOWED_BUCKETS: f"{self.names.data_bucket},{self.names.jobs_bucket}",
            env.WRITE_BUCKETS: self.names.data_bucket,
            env.PLATFORM: "EC2",  # the local Batch places whole vCPUs, as EC2 does
            env.DATA_BUCKET: self.names.data_bucket,
            env.RESULTS_BUCKET: self.names.data_bucket,
            **self._notify_env,
        }

    def client(self, service: str) -> Any:
        """A boto3 client of this stack's emulated `service` (s3, dynamodb, logs)."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=jobs.REGION,
            aws_access_key_id=self.token,
            aws_secret_access_key=self._secret_key,
        )

    # -- internals -------------------------------------------------------------------------------

    def _reset_moto(self) -> None:
        """Empty moto's backends (per process: an earlier stack's state would show through)."""
        requests.post(
            f"{self.endpoint_url}/moto-api/reset",
            headers={access.TOKEN_HEADER: self.token},
            timeout=10,
        ).raise_for_status()

    def _create_resources(self) -> None:
        s3 = self.client("s3")
        for bucket in (self.names.jobs_bucket, self.names.data_bucket):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(
            Bucket=self.names.jobs_bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        self.client("dynamodb").create_table(**table_definition(self.names.table))
        self.client("logs").create_log_group(logGroupName=self.names.log_group)
        self._notify_env = notifications.create(self.client)

    def _deliver_batch_event(self, event: dict[str, Any]) -> None:
        handler = self.on_batch_event
        if handler is not None:
            handler(event)

    def _ship_log(self, stream: str, path: Path) -> None:
        """An attempt's output into CloudWatch Logs, where Batch's awslogs driver puts it."""
        logs = self._logs
        group = self.names.log_group
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        stamp = jobs.now_ms()
        for start in range(0, len(lines), MAX_LOG_EVENTS):
            chunk = lines[start : start + MAX_LOG_EVENTS]
            logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[{"timestamp": stamp, "message": line or " "} for line in chunk],
            )

    def state(self) -> dict[str, Any]:
        """What other processes need to use this stack (see `state.read_state`)."""
        return {
            "pid": os.getpid(),
            "endpoint_url": self.endpoint_url,
            "batch_url": self.batch_url,
            "region": jobs.REGION,
            "env": self.env,
            "names": asdict(self.names),
            "queues": self.queues,
            "log_dir": str(self.batch.log_dir),
        }
