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
    serve: Annotated[
        Path | None,
        typer.Option(
            help="An endpoint config whose model is in the stack's S3: `batchscore serve` it "
            "beside the stack once the model is uploaded.",
            metavar="ENDPOINT",
        ),
    ] = None,
    serve_port: Annotated[
        int, typer.Option(min=1, max=65535, help="The --serve endpoint's port on 127.0.0.1.")
    ] = 8080,
) -> None:
    """Run the local stack until Ctrl-C; other batchscore commands find it via its state file.
    With --serve, the real-time endpoint runs beside it (docs/endpoint.md)."""
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
    from submitter.local.stack import LocalStack, StackNames

    endpoint_config = None
    if serve is not None:  # checked before the stack starts: a wrong config starts nothing
        require_extra("job", *JOB_MODULES, "orjson")
        from submitter.cli.stack_endpoint import read_config

        names = StackNames()
        endpoint_config = read_config(serve, (names.data_bucket, names.jobs_bucket))

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
        endpoint = None
        if serve is not None and endpoint_config is not None:
            from submitter.cli.stack_endpoint import StackEndpoint, model_exists

            s3 = stack.client("s3")
            endpoint = StackEndpoint(
                serve,
                endpoint_config,
                serve_port,
                stack.env,
                model_exists(s3, endpoint_config.model.uri),
                typer.echo,
            )
            endpoint.start()
        try:
            while not stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            if endpoint is not None:
                endpoint.stop()
    typer.echo("local stack stopped")
