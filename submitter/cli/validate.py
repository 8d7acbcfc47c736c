"""`batchscore validate`: the job-config contract, offline (needs only the base install)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from config import env
from config.batch_limits import Platform, resource_problems
from config.deployment import queue_names
from config.exceptions import ConfigError, Problem
from config.parsing import parse_config, read_config_file
from submitter.cli.errors import ExitCode
from submitter.cli.options import emit


def check_file(
    path: Path, queues: tuple[str, ...], platform: Platform | None = None
) -> list[Problem]:
    """The problems of one config file (empty when valid); unreadable files are a problem too.
    With a platform, Batch's resource rules for it are checked as the deployment checks them."""
    try:
        raw = read_config_file(path)
    except OSError as exc:
        return [Problem("(file)", f"cannot read: {exc.strerror or exc}")]
    try:
        config = parse_config(raw, queues=queues)
    except ConfigError as exc:
        return exc.problems
    if platform is None or config.resources is None:
        return []
    return resource_problems(config.resources.vcpus, config.resources.memory_mib, platform)


def validate(
    files: Annotated[list[Path], typer.Argument(help="Job-config JSON files.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    queues: Annotated[
        str | None,
        typer.Option(help="Deployed queue names, comma-separated.", envvar=env.QUEUES),
    ] = None,
    platform: Annotated[
        Platform | None,
        typer.Option(
            help="Also check Batch's resource rules for this platform.", envvar=env.PLATFORM
        ),
    ] = None,
) -> None:
    """Check job configs against the contract: exit 0 when all are valid, 2 when any is not."""
    names = queue_names(queues)
    results = {str(path): check_file(path, names, platform) for path in files}
    report = [
        {
            "file": name,
            "valid": not problems,
            "errors": [{"path": p.path, "message": p.message} for p in problems],
        }
        for name, problems in results.items()
    ]
    lines = [
        line
        for name, problems in results.items()
        for line in ([f"{name}: ok"] if not problems else [f"{name}: {p}" for p in problems])
    ]
    emit(report, as_json, "\n".join(lines))
    raise typer.Exit(ExitCode.INVALID if any(results.values()) else ExitCode.OK)
