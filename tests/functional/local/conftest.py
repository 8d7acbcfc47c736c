"""Fixtures for the local runtime: a LocalBatch whose jobs are tiny Python scripts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.local_jobs import GRACE_SECONDS, Recorder

from submitter.local.executor import LocalBatch
from submitter.local.jobs import JobDefinition


@pytest.fixture
def events() -> Recorder:
    return Recorder()


@pytest.fixture
def make_batch(tmp_path: Path, events: Recorder) -> Iterator[Callable[..., LocalBatch]]:
    made: list[LocalBatch] = []

    def make(*definitions: JobDefinition, **options: Any) -> LocalBatch:
        options.setdefault("max_vcpus", 2)
        batch = LocalBatch(
            job_definitions=definitions,
            on_event=events,
            log_dir=tmp_path / "logs",
            kill_grace_seconds=GRACE_SECONDS,
            min_timeout_seconds=0,
            **options,
        )
        made.append(batch)
        return batch

    yield make
    for batch in made:
        batch.close()


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    """A file whose creation releases the jobs of `GATED`."""
    return tmp_path / "gate"
