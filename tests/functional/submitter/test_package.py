"""`make package`: the zip holds the handlers and their dependencies, nothing heavy, no CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from config import env

ROOT = Path(__file__).parents[3]
HEAVY = ("pandas", "pyarrow", "sklearn", "numpy", "boto3", "botocore", "typer", "rich")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built for this interpreter's Python version so the import check below can load it."""
    out = tmp_path_factory.mktemp("package") / "submitter.zip"
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    # The uv-made .venv has no pip; the bootstrap venv that installed uv has.
    with_pip = ROOT / ".tools" / "bin" / "python"
    interpreter = str(with_pip if with_pip.exists() else sys.executable)
    script = "scripts/package_submitter.py"
    subprocess.run(
        [interpreter, script, "--out", str(out), "--python", python],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return out


@pytest.mark.slow
def test_zip_contents(built: Path) -> None:
    names = set(zipfile.ZipFile(built).namelist())
    for handler in ("submitter/ingest_handler.py", "submitter/state_handler.py"):
        assert handler in names
    assert "config/models.py" in names
    for cli_side in ("submitter/cli.py", "submitter/views.py", "submitter/local/"):
        assert not any(name.startswith(cli_side) for name in names)
    tops = {name.split("/")[0] for name in names}
    assert not {t for t in tops if t.split("-")[0].split(".")[0] in HEAVY}
    assert any(name.startswith("pydantic_core/_pydantic_core") for name in names)
    assert "aws_lambda_powertools/__init__.py" in names
    assert not any("__pycache__" in name for name in names)


@pytest.mark.slow
def test_handlers_import_from_the_zip_alone(built: Path, tmp_path: Path) -> None:
    # GIVEN the zip unpacked as Lambda does (boto3 comes from the runtime: here, our venv)
    zipfile.ZipFile(built).extractall(tmp_path)
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import submitter.ingest_handler, submitter.state_handler, pydantic, pydantic_core\n"
        "print(json.dumps([pydantic.__file__, pydantic_core.__file__,"
        " submitter.ingest_handler.__file__]))"
    )
    environment = {
        **os.environ,
        env.TABLE_NAME: "jobs",
        env.JOB_DEFINITION: "jd",
        env.QUEUES: "normal",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # WHEN the handlers are imported from a directory outside the project
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # THEN pydantic and the handlers came from the zip
    assert all(path.startswith(str(tmp_path)) for path in json.loads(out))
