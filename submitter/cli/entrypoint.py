"""The `batchscore` command: every command, registered through the one error path.

Each group of commands lives in a module of its own; this module only assembles them. Commands
import what only they need inside their bodies (boto3, moto, scikit-learn), so `batchscore
validate` works on the base install and every command starts quickly.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from submitter.cli import logs, manage, score, stack, status, submit, validate
from submitter.cli.errors import reported

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
    "score": score.score,
    "submit": submit.submit,
    "status": status.status,
    "list": status.list_,
    "logs": logs.logs,
    "cancel": manage.cancel,
    "rerun": manage.rerun,
    "reconcile": manage.reconcile,
    "demo": stack.demo,
}
LOCAL_COMMANDS: dict[str, Callable[..., None]] = {"up": stack.local_up}

for _name, _command in COMMANDS.items():
    app.command(_name)(reported(_command))
for _name, _command in LOCAL_COMMANDS.items():
    local_app.command(_name)(reported(_command))
