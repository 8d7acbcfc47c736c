"""The `batchscore` command: every command, registered through the one error path.

Each group of commands lives in a module of its own; this module only assembles them. Commands
import what only they need inside their bodies (boto3, moto, scikit-learn), so `batchscore
validate` works on the base install and every command starts quickly.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from submitter.cli import check, logs, manage, score, serve, stack, status, submit, validate
from submitter.cli.cost import cost
from submitter.cli.errors import ExitCode, reported
from submitter.cli.report import report

app = typer.Typer(
    help="Batch ML scoring on AWS Batch: validate, submit and follow scoring jobs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
local_app = typer.Typer(
    help="The embedded local stack: the whole pipeline without an AWS account.",
    no_args_is_help=True,
)
app.add_typer(local_app, name="local")


@app.callback()
def _root() -> None:
    """batchscore: one job-config JSON in, one scoring job out."""


COMMANDS: dict[str, Callable[..., None]] = {
    "validate": validate.validate,
    "check": check.check,
    "score": score.score,
    "submit": submit.submit,
    "status": status.status,
    "list": status.list_,
    "logs": logs.logs,
    "cancel": manage.cancel,
    "rerun": manage.rerun,
    "reconcile": manage.reconcile,
    "demo": stack.demo,
    "cost": cost,
    "serve": serve.serve,
    "report": report,
}
LOCAL_COMMANDS: dict[str, Callable[..., None]] = {"up": stack.local_up}

for _name, _command in COMMANDS.items():
    app.command(_name)(reported(_command))
for _name, _command in LOCAL_COMMANDS.items():
    local_app.command(_name)(reported(_command))


def main(argv: list[str] | None = None) -> int:
    """The console script: the app, with a usage error (an unknown option, a missing argument)
    as the same one line as every other error instead of a boxed usage message."""
    try:
        code = app(args=argv, prog_name="batchscore", standalone_mode=False)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        return ExitCode.FAILED
    except typer.TyperException as exc:  # typer's (vendored click's) usage errors
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        context = getattr(exc, "ctx", None)
        where = f" (see `{context.command_path} --help`)" if context is not None else ""
        typer.echo(f"error: {message}{where}", err=True)
        return int(getattr(exc, "exit_code", ExitCode.INVALID))
    return code if isinstance(code, int) else ExitCode.OK


def cli() -> None:
    """`batchscore` on PATH (pyproject's console script)."""
    raise SystemExit(main())
