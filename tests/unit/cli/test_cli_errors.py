"""Every `batchscore` command fails the one way (`submitter.cli.errors.reported`): one line
`error: ...` on stderr, nothing on stdout, a documented exit code; a bug still shows its
traceback."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from typer.testing import CliRunner, Result

from config import env
from submitter.cli.entrypoint import COMMANDS, LOCAL_COMMANDS, app
from submitter.cli.errors import ExitCode, reported

EXAMPLES = Path(__file__).parents[3] / "config" / "examples"
# What each command needs on its command line to get as far as finding its deployment.
ARGUMENTS = {
    "submit": [str(EXAMPLES / "minimal.json")],
    "status": ["some-job"],
    "list": [],
    "logs": ["some-job"],
    "cancel": ["some-job"],
    "rerun": ["some-job"],
    "reconcile": [],
}


@pytest.fixture
def no_deployment(tmp_path: Path) -> dict[str, str]:
    """An environment that names no deployment: no BATCHSCORE_* variables, no local stack."""
    for name in (env.TABLE_NAME, env.TERRAFORM_DIR, env.QUEUES):
        os.environ.pop(name, None)
    return {env.LOCAL_STATE: str(tmp_path / "no-stack.json")}


def aws_variables(tmp_path: Path) -> dict[str, str]:
    """A deployment named by its variables (nothing is called before the config is read)."""
    return {
        env.TABLE_NAME: "t",
        env.JOBS_BUCKET: "b",
        env.QUEUES: "high,normal,low",
        env.LOCAL_STATE: str(tmp_path / "no-stack.json"),
    }


def invoke(args: list[str], environ: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, args, env=environ)


def assert_one_error_line(result: Result, code: ExitCode, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert result.stdout == ""
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.fixture
def without(monkeypatch: pytest.MonkeyPatch) -> Any:
    """`without("moto")` makes that package missing, as on an install without its extra (a None
    in sys.modules: importing it fails and importlib.util.find_spec finds nothing)."""
    return lambda name: monkeypatch.setitem(sys.modules, name, None)


def test_every_command_is_registered_through_the_one_handler() -> None:
    registered = {c.name: c.callback for c in app.registered_commands}
    assert set(registered) == set(COMMANDS)
    for name, callback in registered.items():
        assert callback is not COMMANDS[name], f"{name} bypasses reported()"
        assert getattr(callback, "__wrapped__", None) is COMMANDS[name]
    [local] = app.registered_groups
    assert {c.name for c in local.typer_instance.registered_commands} == set(LOCAL_COMMANDS)


@pytest.mark.parametrize("command", sorted(ARGUMENTS))
def test_a_command_without_a_deployment_says_so_in_one_line(
    command: str, no_deployment: dict[str, str]
) -> None:
    result = invoke([command, *ARGUMENTS[command]], no_deployment)
    assert_one_error_line(result, ExitCode.FAILED, "no deployment found", "batchscore local up")


@pytest.mark.parametrize("command", ["status", "cancel"])
def test_local_without_a_stack_says_so(command: str, no_deployment: dict[str, str]) -> None:
    result = invoke([command, "some-job", "--local"], no_deployment)
    assert_one_error_line(result, ExitCode.FAILED, "no local stack runs")


def test_a_malformed_deployment_setting_is_invalid_input(tmp_path: Path) -> None:
    result = invoke(["validate", str(EXAMPLES / "minimal.json")], {env.QUEUES: "{not json"})
    assert_one_error_line(result, ExitCode.INVALID, env.QUEUES)


def test_submit_of_an_invalid_config_names_each_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "shards": 0}))
    result = invoke(["submit", str(bad)], aws_variables(tmp_path))
    assert result.exit_code == ExitCode.INVALID
    lines = result.stderr.splitlines()
    assert all(line.startswith("error: ") for line in lines)
    assert {"model", "input", "output", "shards"} <= {line.split()[1].rstrip(":") for line in lines}
    assert result.stdout == ""


def test_an_unreadable_config_is_one_line(tmp_path: Path) -> None:
    result = invoke(["submit", str(tmp_path / "missing.json")], aws_variables(tmp_path))
    assert_one_error_line(result, ExitCode.FAILED, "missing.json")


@pytest.mark.parametrize(
    ("args", "missing", "extra"),
    [
        (["score", str(EXAMPLES / "minimal.json")], "sklearn", "job"),
        (["demo"], "skops", "job"),
        (["demo"], "moto", "local"),
        (["local", "up"], "moto", "local"),
        (["status", "some-job"], "boto3", "submitter"),
    ],
)
def test_a_missing_extra_is_reported_the_same_way_everywhere(
    args: list[str], missing: str, extra: str, without: Any, no_deployment: dict[str, str]
) -> None:
    without(missing)
    result = invoke(args, no_deployment)
    expected = (f"needs the {extra} extra", repr(missing), f"pip install 'batchscore[{extra}]'")
    assert_one_error_line(result, ExitCode.FAILED, *expected)


def test_local_up_refuses_a_second_stack(tmp_path: Path) -> None:
    state = tmp_path / "local.json"
    state.write_text(json.dumps({"pid": os.getpid(), "endpoint_url": "http://127.0.0.1:1"}))
    result = invoke(["local", "up", "--state", str(state)])
    assert_one_error_line(result, ExitCode.FAILED, "a local stack runs already")


def test_an_aws_error_is_one_line_with_its_code() -> None:
    def denied() -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "GetItem"
        )

    result = _invoke_function(denied)
    assert_one_error_line(result, ExitCode.FAILED, "AWS AccessDeniedException: not allowed")


def test_an_unreachable_endpoint_is_one_line() -> None:
    def unreachable() -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    result = _invoke_function(unreachable)
    assert_one_error_line(result, ExitCode.FAILED, "http://127.0.0.1:9")


@pytest.mark.parametrize("bug", [KeyError("table"), ValueError("bad"), TypeError("no")])
def test_a_bug_is_not_hidden(bug: Exception) -> None:
    def broken() -> None:
        raise bug

    result = _invoke_function(broken)
    assert result.exit_code == 1
    assert result.exception is bug  # the traceback reaches the user, not a one-line disguise


def _invoke_function(function: Any) -> Result:
    import typer

    probe = typer.Typer()
    probe.command()(reported(function))
    return CliRunner().invoke(probe, [])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["list", "--bogus"], "error: No such option: --bogus (see `batchscore list --help`)"),
        (["validate"], "error: Missing argument 'files'. (see `batchscore validate --help`)"),
        (["nosuch"], "error: No such command 'nosuch'. (see `batchscore --help`)"),
    ],
)
def test_a_usage_error_is_one_line_too(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from submitter.cli.entrypoint import main

    assert main(argv) == ExitCode.INVALID
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [expected]
    assert captured.out == ""


def test_the_console_script_is_the_one_line_entry_point() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["batchscore"] == "submitter.cli.entrypoint:cli"
