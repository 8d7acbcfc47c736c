"""`batchscore validate FILE...` as SPEC.md's "Interfaces" says: a line per problem naming the file
and the field path; exit 0 when all are valid, 2 when any is not; `--json` for scripts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import EXAMPLES
from typer.testing import CliRunner

from submitter.cli.entrypoint import app


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    document = json.loads((EXAMPLES / "minimal.json").read_text())
    document["model"]["uri"] = "s3://acme-models/m.pkl"
    document["shards"] = 0
    path = tmp_path / "bad job.json"
    path.write_text(json.dumps(document))
    return path


def test_valid_files_exit_zero(cli: CliRunner) -> None:
    result = cli.invoke(
        app, ["validate", str(EXAMPLES / "minimal.json"), str(EXAMPLES / "full.json")]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok") == 2


def test_each_problem_is_a_line_naming_file_and_field(cli: CliRunner, bad: Path) -> None:
    result = cli.invoke(app, ["validate", str(EXAMPLES / "minimal.json"), str(bad)])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert f"{bad}: shards: must be greater than or equal to 1, got 0" in lines
    assert f"{EXAMPLES / 'minimal.json'}: ok" in lines


def test_cross_field_problem_is_reported_once_fields_are_valid(cli: CliRunner, bad: Path) -> None:
    document = json.loads(bad.read_text())
    del document["shards"]
    bad.write_text(json.dumps(document))
    result = cli.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"{bad}: model.sha256: required when the model format is pickle"
    ]


def test_missing_and_non_json_files_are_problems(cli: CliRunner, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{nope")
    result = cli.invoke(app, ["validate", str(tmp_path / "absent.json"), str(garbage)])
    assert result.exit_code == 2
    assert (
        f"{tmp_path / 'absent.json'}: (file): cannot read: No such file or directory"
        in result.output
    )
    assert f"{garbage}: (root): is not valid JSON" in result.output


def test_json_output_for_scripts(cli: CliRunner, bad: Path) -> None:
    result = cli.invoke(app, ["validate", "--json", str(EXAMPLES / "minimal.json"), str(bad)])
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report[0] == {"file": str(EXAMPLES / "minimal.json"), "valid": True, "errors": []}
    assert report[1]["valid"] is False
    assert {"path": "shards", "message": "must be greater than or equal to 1, got 0"} in report[1][
        "errors"
    ]


def test_deployment_queues_come_from_the_environment(cli: CliRunner, tmp_path: Path) -> None:
    document = json.loads((EXAMPLES / "minimal.json").read_text()) | {"priority": "gold"}
    path = tmp_path / "gold.json"
    path.write_text(json.dumps(document))
    assert cli.invoke(app, ["validate", str(path)]).exit_code == 2
    assert (
        cli.invoke(app, ["validate", str(path)], env={"BATCHSCORE_QUEUES": "gold,bronze"}).exit_code
        == 0
    )
    queues_json = json.dumps({"gold": "arn:aws:batch:us-east-1:1:job-queue/gold"})
    assert (
        cli.invoke(app, ["validate", str(path)], env={"BATCHSCORE_QUEUES": queues_json}).exit_code
        == 0
    )


def test_no_file_is_a_usage_error(cli: CliRunner) -> None:
    assert cli.invoke(app, ["validate"]).exit_code == 2


def test_console_script_is_installed(bad: Path) -> None:
    executable = shutil.which("batchscore", path=str(Path(__file__).parents[3] / ".venv" / "bin"))
    assert executable, "the batchscore console script is not installed in .venv"
    result = subprocess.run(
        [executable, "validate", str(bad)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert f"{bad}: shards:" in result.stdout
    assert "Traceback" not in result.stderr


def test_validate_runs_on_the_base_install(bad: Path) -> None:
    """`pip install batchscore` (pydantic, typer, rich) is enough for `batchscore validate`:
    every other distribution is made unimportable in a fresh interpreter."""
    extras_only = ["boto3", "botocore", "moto", "pyarrow", "numpy", "pandas", "sklearn", "skops"]
    extras_only.append("aws_lambda_powertools")
    program = (
        "import sys\n"
        f"for name in {extras_only!r}: sys.modules[name] = None\n"
        "from submitter.cli.entrypoint import app\n"
        "app(prog_name='batchscore')\n"
    )
    good = str(EXAMPLES / "minimal.json")
    result = subprocess.run(
        [sys.executable, "-c", program, "validate", good, str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert f"{good}: ok" in result.stdout
    assert f"{bad}: shards:" in result.stdout
    assert result.stderr == ""
