"""`batchscore serve`: the real-time endpoint's handler behind a small HTTP server on 127.0.0.1
(job/endpoint/server.py), for trying an endpoint config before deploying it (docs/endpoint.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from submitter.cli.errors import ExitCode, fail, require_extra
from submitter.cli.score import JOB_MODULES


def serve(
    config_file: Annotated[
        Path, typer.Argument(help="An endpoint-config JSON file.", metavar="ENDPOINT")
    ],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8080,
) -> None:
    """Serve ENDPOINT's model on http://127.0.0.1:PORT until Ctrl-C: POST rows (JSON, CSV or
    Parquet) to score them, GET to see what answers.

    Unlike the Lambda, which answers 500 and logs why, a model that cannot load stops the
    command at once (exit 2) with the reason."""
    require_extra("job", *JOB_MODULES, "orjson")  # orjson: the endpoint's JSON (job extra)
    from job import logs
    from job.endpoint.events import build_app
    from job.endpoint.server import make_server

    try:
        text = config_file.read_text()
    except OSError as exc:
        fail(f"{config_file}: {exc.strerror or exc}", ExitCode.INVALID)
    logs.configure(sys.stderr, text=True)  # stdout: the URL line only
    app = build_app(text, source=str(config_file))
    if app.endpoint is None:
        fail(f"{config_file}: the endpoint cannot serve: {app.failure}", ExitCode.INVALID)
    server = make_server(app, port)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    # First line on stdout, flushed: a caller that started us on port 0 reads the URL from it.
    typer.echo(f"serving {app.endpoint.config.name} on {url} (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
