"""`batchscore score`: what the container does, here and now (local paths need no AWS)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from submitter.cli.errors import require_extra
from submitter.cli.options import AsJson

# What the container imports beyond the base install (the `job` extra).
JOB_MODULES = ("boto3", "numpy", "pandas", "pyarrow", "sklearn", "skops")


def score(
    config_file: Annotated[Path, typer.Argument(help="A job-config JSON file.", metavar="CONFIG")],
    as_json: AsJson = False,
) -> None:
    """Score CONFIG here, directly (what the container does); local paths need no AWS at all.

    Exits as the container does: 0 done, 2 permanent failure, 3 transient failure."""
    require_extra("job", *JOB_MODULES)
    from job.commands import main as job_main

    log_format = "json" if as_json else "text"  # JSON: the container's own log lines and summary
    raise typer.Exit(job_main(["score", str(config_file), "--log-format", log_format]))
