"""`batchscore local up --serve ENDPOINT.json`: the real-time endpoint beside the local stack.

It is `batchscore serve` itself (the Lambda's handler behind the same small HTTP server), run as
a child process under the stack's environment, so its model is read from the stack's S3 as the
Lambda reads it from S3. A new stack is empty: the endpoint starts once the model's object is
in the stack's bucket (uploaded after `local up`, with the `export` lines it prints), and stops
with the stack. The model is read once, at that start, as the Lambda reads it at its init.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.endpoint import EndpointConfig, parse_endpoint_config
from submitter.cli.errors import CliError

POLL_SECONDS = 0.5  # how often the stack's S3 is asked whether the model has arrived
STOP_SECONDS = 10


def read_config(path: Path, buckets: Iterable[str]) -> EndpointConfig:
    """The endpoint config at `path`, refused (CliError, before the stack starts) unless its
    model is an s3:// object in one of the stack's `buckets`."""
    try:
        config = parse_endpoint_config(path.read_text(), source=str(path))
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    bucket = config.model.uri.removeprefix("s3://").split("/", 1)[0]
    if not config.model.uri.startswith("s3://") or bucket not in set(buckets):
        raise CliError(
            f"{path}: model.uri: {config.model.uri} is not in the local stack's S3 "
            f"(s3://{'/, s3://'.join(sorted(buckets))}/): --serve reads its model from there"
        )
    return config


@dataclass
class StackEndpoint:
    """`batchscore serve CONFIG --port PORT` under `environment` (the stack's), started by a
    thread once `exists()` says the model is there; `stop()` ends both."""

    config_file: Path
    config: EndpointConfig
    port: int
    environment: Mapping[str, str]
    exists: Callable[[], bool]  # the model's object is in the stack's S3
    echo: Callable[[str], None]
    process: subprocess.Popen[str] | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.echo(
            f"endpoint {self.config.name}: {self.url} once {self.config.model.uri} is uploaded "
            "(batchscore serve; stops with the stack)"
        )
        self._thread = threading.Thread(target=self._run, name="stack-endpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=STOP_SECONDS)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _run(self) -> None:
        while not self._stopping.is_set() and not self._arrived():
            self._stopping.wait(POLL_SECONDS)
        if self._stopping.is_set():
            return
        command = [
            sys.executable,
            "-m",
            "submitter.cli",
            "serve",
            str(self.config_file),
            "--port",
            str(self.port),
        ]
        # stderr is the stack's: the endpoint's log lines (and why it cannot start) show there.
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **self.environment},
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()  # "serving NAME on URL ..." once loaded
        if line:
            self.echo(f"endpoint {self.config.name}: {line}")
        else:
            self.echo(
                f"endpoint {self.config.name}: NOT serving (`batchscore serve` exited "
                f"{self.process.wait()}; its reason is above)"
            )

    def _arrived(self) -> bool:
        try:
            return self.exists()
        except Exception:  # noqa: BLE001 - the emulator still starting: ask again
            return False


def model_exists(s3: Any, uri: str) -> Callable[[], bool]:
    """Whether the object at s3:// `uri` exists, asked of the stack's S3 client `s3`."""
    bucket, key = uri.removeprefix("s3://").split("/", 1)

    def exists() -> bool:
        from botocore.exceptions import ClientError

        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError:
            return False
        return True

    return exists
