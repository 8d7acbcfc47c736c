"""`batchscore score`: what the container does, here and now (local paths need no AWS)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from submitter.cli.errors import needs_extra


def score(
    config_file: Annotated[Path, typer.Argument(help="A job-config JSON file.", metavar="CONFIG")],
) -> None:
    """Score CONFIG here, directly (what the container does); local paths need no AWS at all.

    Exits as the container does: 0 done, 2 permanent failure, 3 transient failure."""
    try:
        from job.commands import main as job_main
    except ImportError as exc:
        needs_extra("job")(exc)
    raise typer.Exit(job_main(["score", str(config_file)]))
