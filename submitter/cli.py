"""The `batchscore` command line. Errors are one clear line; `--json` serves scripts."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from config import env
from config.deployment import queue_names
from config.exceptions import ConfigError, Problem
from config.parsing import parse_config, read_config_file
from submitter import cli_jobs
from submitter.exceptions import SubmitterError

EXIT_OK = 0
EXIT_INVALID = 2

app = typer.Typer(
    help="Batch ML scoring on AWS Batch: validate, submit and follow scoring jobs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """batchscore: one job-config JSON in, one scoring job out."""


def check_file(path: Path, queues: tuple[str, ...]) -> list[Problem]:
    """The problems of one config file (empty when valid); unreadable files are a problem too."""
    try:
        raw = read_config_file(path)
    except OSError as exc:
        return [Problem("(file)", f"cannot read: {exc.strerror or exc}")]
    try:
        parse_config(raw, queues=queues)
    except ConfigError as exc:
        return exc.problems
    return []


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Job-config JSON files.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    queues: Annotated[
        str | None,
        typer.Option(help="Deployed queue names, comma-separated.", envvar=env.QUEUES),
    ] = None,
) -> None:
    """Check job configs against the contract: exit 0 when all are valid, 2 when any is not."""
    try:
        names = queue_names(queues)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    results = {str(path): check_file(path, names) for path in files}
    if as_json:
        report = [
            {
                "file": name,
                "valid": not problems,
                "errors": [{"path": p.path, "message": p.message} for p in problems],
            }
            for name, problems in results.items()
        ]
        typer.echo(json.dumps(report, indent=2))
    else:
        for name, problems in results.items():
            if not problems:
                typer.echo(f"{name}: ok")
            for problem in problems:
                typer.echo(f"{name}: {problem.path}: {problem.message}")
    raise typer.Exit(EXIT_INVALID if any(results.values()) else EXIT_OK)


def one_line(command: Callable[..., None]) -> Callable[..., None]:
    """Turn the errors a user can meet into one clear line and exit 1, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            command(*args, **kwargs)
        except ConfigError as exc:
            for problem in exc.problems:
                typer.echo(f"error: {problem}", err=True)
            raise typer.Exit(EXIT_INVALID) from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            typer.echo(f"error: AWS {error.get('Code')}: {error.get('Message')}", err=True)
            raise typer.Exit(1) from None
        except (SubmitterError, BotoCoreError, OSError, KeyError, ValueError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(1) from None

    return wrapper


for _name, _command in (
    ("submit", cli_jobs.submit),
    ("status", cli_jobs.status),
    ("list", cli_jobs.list_),
    ("logs", cli_jobs.logs),
    ("cancel", cli_jobs.cancel),
    ("rerun", cli_jobs.rerun),
    ("reconcile", cli_jobs.reconcile),
):
    app.command(_name)(one_line(_command))


@app.command()
def score(
    config_file: Annotated[Path, typer.Argument(help="A job-config JSON file.", metavar="CONFIG")],
) -> None:
    """Score CONFIG here, directly (what the container does); local paths need no AWS at all."""
    try:
        from job.cli import main as job_main
    except ImportError as exc:
        typer.echo(
            f"error: scoring needs the job extra ({exc.name}): pip install 'batchscore[job]'"
        )
        raise typer.Exit(1) from None
    raise typer.Exit(job_main(["score", str(config_file)]))


@app.command()
def demo(
    rows: Annotated[int, typer.Option(min=100, help="Customers in the demo's input.")] = 20_000,
    timeout: Annotated[float, typer.Option(help="Seconds the jobs may take.")] = 50,
) -> None:
    """The whole pipeline on the embedded stack: five uploads, their jobs, a summary; exit 0 only
    when every expected outcome happened."""
    try:
        from submitter.local.demo import run_demo
    except ImportError as exc:
        typer.echo(f"error: the demo needs {exc.name}: run `make install`", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(0 if run_demo(rows=rows, timeout=timeout) else 1)


# -- local stack (submitter/local) ----------------------------------------------------------------

local_app = typer.Typer(
    help="The embedded local stack: the whole pipeline without an AWS account.",
    no_args_is_help=True,
)
app.add_typer(local_app, name="local")


@local_app.command("up")
def local_up(
    vcpus: Annotated[float, typer.Option(help="vCPUs of the emulated compute environments.")] = 2,
    state: Annotated[
        Path | None,
        typer.Option(help="State file other commands read.", envvar=env.LOCAL_STATE),
    ] = None,
) -> None:
    """Run the local stack until Ctrl-C; other batchscore commands find it via its state file."""
    import signal  # this section keeps its imports to itself; the stack's (moto) are slow
    import threading

    from submitter.local.state import default_state_file, read_state

    path = state or default_state_file()
    running = read_state(path)
    if running:
        typer.echo(
            f"error: a local stack runs already (pid {running['pid']}, "
            f"{running['endpoint_url']}); stop it first",
            err=True,
        )
        raise typer.Exit(1)
    try:
        from submitter.local.stack import LocalStack
    except ImportError as exc:
        typer.echo(f"error: the local stack needs {exc.name}: run `make install`", err=True)
        raise typer.Exit(1) from None
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    from submitter.local.pipeline import connect_handlers

    with LocalStack(max_vcpus=vcpus, state_file=path) as stack:
        connect_handlers(stack)
        typer.echo(f"local stack up: AWS at {stack.endpoint_url}, Batch at {stack.batch_url}")
        typer.echo(f"state: {path} (Ctrl-C stops the stack)")
        for name, value in stack.env.items():
            typer.echo(f"export {name}='{value}'")
        try:
            while not stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    typer.echo("local stack stopped")
