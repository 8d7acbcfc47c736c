"""`batchscore score`: the container's code here, for a person by default (text on stderr, the
result on stdout, an error as one line) and for scripts with `--json` (the container's lines)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import jobdata
from support.paths import ROOT

from config.retry import EXIT_PERMANENT

pytestmark = pytest.mark.slow  # each test starts an interpreter that imports scikit-learn


@pytest.fixture
def config(tmp_path: Path) -> Path:
    model = tmp_path / "model.skops"
    jobdata.save_model(jobdata.fit(), model)
    data = jobdata.write_table(jobdata.table(2_000), tmp_path / "in" / "data.parquet")
    document = jobdata.config(str(model), str(data), f"{tmp_path / 'out'}/")
    return jobdata.write_config(tmp_path / "job.json", document)


def batchscore(*args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    program = "from submitter.cli.entrypoint import cli; cli()"
    return subprocess.run(
        [sys.executable, "-c", program, *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_score_speaks_to_a_person(config: Path) -> None:
    result = batchscore("score", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("scored 2,000 rows in ")
    assert not any(line.startswith("{") for line in result.stderr.splitlines())


def test_score_json_gives_the_containers_lines(config: Path) -> None:
    result = batchscore("score", str(config), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["rows"] == 2_000


def test_a_failed_score_is_one_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "job.json"
    document = jobdata.config(
        str(tmp_path / "missing.skops"), str(tmp_path / "in.parquet"), f"{tmp_path}/o/"
    )
    bad.write_text(json.dumps(document))
    result = batchscore("score", str(bad))
    assert result.returncode == EXIT_PERMANENT
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    assert "missing.skops" in line


def test_score_runs_with_the_containers_process_environment() -> None:
    """One place (job/__init__.py) sets it for `python -m job` and for `batchscore score`."""
    program = "import os, submitter.cli.score as s; s.require_extra('job'); import job.commands; "
    program += "print(os.environ['OMP_WAIT_POLICY'], os.environ['OPENBLAS_THREAD_TIMEOUT'])"
    unset = ("OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT")
    environ = {k: v for k, v in os.environ.items() if k not in unset}
    result = subprocess.run(
        [sys.executable, "-c", program], env=environ, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["PASSIVE", "4"]
