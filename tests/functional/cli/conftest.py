"""The local stack the CLI tests drive (one per module: real handlers, real container
processes), with the demo's model and customers (`DEMO_ROWS` of them) in its data bucket."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from support.names import DEMO_ROWS
from typer.testing import CliRunner

from submitter.cli.demo import write_inputs
from submitter.local.pipeline import connect_handlers
from submitter.local.stack import LocalStack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with pytest.MonkeyPatch.context() as patch:
        state = tmp_path_factory.mktemp("state") / "local.json"
        patch.setenv("BATCHSCORE_LOCAL_STATE", str(state))
        with LocalStack(max_vcpus=2, state_file=state) as running:
            connect_handlers(running)
            write_inputs(running.client("s3"), running.names.data_bucket, DEMO_ROWS)
            yield running


@pytest.fixture
def cli(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("BATCHSCORE_TABLE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)  # found through the state file, not the env
    # As in a real `batchscore` process, the submitter's loggers have no handler writing to stdout
    # (an earlier test's Lambda import may have given them powertools' one).
    monkeypatch.setattr(logging.getLogger("submitter"), "handlers", [])
    return CliRunner()
