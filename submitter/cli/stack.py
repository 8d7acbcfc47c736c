"""`batchscore demo | local up`: the embedded local stack (`submitter.local`), from a terminal.

The stack's modules import moto, which is slow: they are imported inside the commands, so the
other commands stay quick to start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from config import env
from submitter.cli.errors import CliError, ExitCode, require_extra
from submitter.cli.score import JOB_MODULES

# What the local stack imports beyond the base install (the `local` extra).
LOCAL_MODULES = ("boto3", "moto", "requests")


def demo(
    rows: Annotated[int, typer.Option(min=100, help="Customers in the demo's input.")] = 20_000,
    timeout: Annotated[float, typer.Option(help="Seconds the jobs may take.")] = 50,
) -> None:
    """The whole pipeline on the embedded stack: five uploads, their jobs, a summary; exit 0 only
    when every expected outcome happened."""
    require_extra("local", *LOCAL_MODULES)
    require_extra("job", *JOB_MODULES)  # the demo's jobs run the container's code
    from submitter.cli.demo import run_demo

    if not run_demo(rows=rows, timeout=timeout):
        raise CliError("the demo did not end as expected (see the lines marked NOT above)")
    raise typer.Exit(ExitCode.OK)


def local_up(
    vcpus: Annotated[float, typer.Option(help="vCPUs of the emulated compute environments.")] = 2,
    state: Annotated[
        Path | None,
        typer.Option(help="State file other commands read.", envvar=env.LOCAL_STATE),
    ] = None,
) -> None:
    """Run the local stack until Ctrl-C; other batchscore commands find it via its state file."""
    import signal
    import threading

    from submitter.local.state import default_state_file, read_state

    path = state or default_state_file()
    running = read_state(path)
    if running:
        raise CliError(
            f"a local stack runs already (pid {running['pid']}, {running['endpoint_url']}); "
            "stop it first"
        )
    require_extra("local", *LOCAL_MODULES)
    from submitter.local.pipeline import connect_handlers
    from submitter.local.stack import LocalStack

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with LocalStack(max_vcpus=vcpus, state_file=path) as stack:
        connect_handlers(stack)
        from submitter.local.notifications import watch

        watch(stack.client("sqs"), typer.echo, stopping)  # each notification as it is sent
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
