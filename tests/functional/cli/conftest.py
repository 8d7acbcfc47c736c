"""The local stack the CLI tests drive (one per module: real handlers, real container
processes), with the demo's model and customers (`DEMO_ROWS` of them) in its data bucket."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from support.local_stack import demo_stack
from support.names import DEMO_ROWS
from typer.testing import CliRunner

from submitter.local.stack import LocalStack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with demo_stack(tmp_path_factory, DEMO_ROWS) as running:
        yield running


@pytest.fixture
def cli(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("BATCHSCORE_TABLE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)  # found through the state file, not the env
    # As in a real `batchscore` process, the submitter's loggers have no handler writing to stdout
    # (an earlier test's Lambda import may have given them powertools' one).
    monkeypatch.setattr(logging.getLogger("submitter"), "handlers", [])
    return CliRunner()
