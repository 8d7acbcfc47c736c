"""Options several commands share, and how they print a result (`--json` or one line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

Local = Annotated[bool, typer.Option("--local", help="Use the running `batchscore local up`.")]
TerraformDir = Annotated[
    Path | None,
    typer.Option(help="Read the deployment from `terraform output -json` in this directory."),
]
AsJson = Annotated[bool, typer.Option("--json", help="JSON on stdout, for scripts.")]
JobId = Annotated[str, typer.Argument(help="The job id (see `batchscore list`).")]


def emit(document: Any, as_json: bool, text: str | None) -> None:
    """`document` as JSON for scripts, or `text` (when there is one) for people."""
    if as_json:
        typer.echo(json.dumps(document, indent=2, default=str))
    elif text:
        typer.echo(text)
