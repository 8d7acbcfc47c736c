"""The CLI's one way to fail: one line `error: ...` on stderr and a documented exit code.

Every command is registered through `reported`, so what a user can meet (a bad config, an AWS
error, a missing deployment, a missing extra) never reaches them as a traceback, and what only a
bug raises (a bare `KeyError`, `TypeError`, ...) still does.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from enum import IntEnum
from typing import Any, NoReturn, ParamSpec

import typer

from config.exceptions import ConfigError, DeploymentSettingError
from config.retry import EXIT_PERMANENT, EXIT_TRANSIENT
from submitter.exceptions import SubmitterError

P = ParamSpec("P")


class ExitCode(IntEnum):
    """What `batchscore` exits with (README, "Use it")."""

    OK = 0
    FAILED = 1  # the command could not do its work: AWS said no, no deployment, a job failed
    INVALID = EXIT_PERMANENT  # 2: the input is wrong (a config, an option, a setting)
    TRANSIENT = EXIT_TRANSIENT  # 3, `score` only: the job's transient failure; a retry may help


class CliError(Exception):
    """A failure the user can act on, with the exit code it ends the command with."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILED) -> None:
        super().__init__(message)
        self.code = code


class MissingExtraError(CliError):
    """A command needs an optional dependency that is not installed."""

    def __init__(self, extra: str, module: str | None) -> None:
        super().__init__(
            f"this command needs the {extra} extra (no module {module!r}): "
            f"pip install 'batchscore[{extra}]' (or `make install` in a checkout)"
        )


def require_extra(extra: str, *modules: str) -> None:
    """Raise MissingExtraError unless every top-level module is installed (found, not imported:
    the heavy ones cost seconds). Call it first thing in a command that needs an extra."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(extra, module)


def fail(message: str, code: ExitCode = ExitCode.FAILED) -> NoReturn:
    """Print the one line and end the command."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(int(code))


def reported(command: Callable[P, None]) -> Callable[P, None]:
    """Run `command`, turning every error a user can meet into the one line and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except CliError as exc:
            fail(str(exc), exc.code)
        except ConfigError as exc:
            for problem in exc.problems[:-1]:
                typer.echo(f"error: {problem}", err=True)
            fail(str(exc.problems[-1]), ExitCode.INVALID)
        except DeploymentSettingError as exc:
            fail(str(exc), ExitCode.INVALID)
        except (SubmitterError, OSError) as exc:
            fail(str(exc))
        except Exception as exc:
            if not _is_aws_error(exc):
                raise
            fail(_aws_message(exc))

    return wrapper


def _is_aws_error(exc: BaseException) -> bool:
    """botocore's errors, without importing botocore where it is not installed (base install)."""
    return any(cls.__module__.startswith("botocore.") for cls in type(exc).__mro__)


def _aws_message(exc: Any) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return f"AWS {error.get('Code')}: {error.get('Message')}"
    return str(exc)
