"""`batchscore score`: what the container does, here and now (local paths need no AWS)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from submitter.cli.errors import require_extra

# What the container imports beyond the base install (the `job` extra).
JOB_MODULES = ("boto3", "numpy", "pyarrow", "sklearn", "skops")


def score(
    config_file: Annotated[Path, typer.Argument(help="A job-config JSON file.", metavar="CONFIG")],
) -> None:
    """Score CONFIG here, directly (what the container does); local paths need no AWS at all.

    Exits as the container does: 0 done, 2 permanent failure, 3 transient failure."""
    require_extra("job", *JOB_MODULES)
    from job.commands import main as job_main

    raise typer.Exit(job_main(["score", str(config_file)]))
