"""A local stack for tests that drive it as a user does: real handlers, real container processes,
the demo's model and customers in its data bucket, and its state file where the CLI finds it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from submitter.cli.demo import write_inputs
from submitter.local.pipeline import connect_handlers
from submitter.local.stack import LocalStack


@contextmanager
def demo_stack(tmp_path_factory: pytest.TempPathFactory, rows: int) -> Iterator[LocalStack]:
    with pytest.MonkeyPatch.context() as patch:
        state = tmp_path_factory.mktemp("state") / "local.json"
        patch.setenv("BATCHSCORE_LOCAL_STATE", str(state))
        with LocalStack(max_vcpus=2, state_file=state) as running:
            connect_handlers(running)
            write_inputs(running.client("s3"), running.names.data_bucket, rows)
            yield running
