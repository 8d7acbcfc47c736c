"""`make package`: the zip holds the handlers, their dependencies and their bytecode; nothing
heavy, no CLI."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support.paths import ROOT

from config import env

HEAVY = ("pandas", "pyarrow", "sklearn", "numpy", "boto3", "botocore", "typer", "rich")
# What the packaged project code may import: itself, the zip's wheels, the runtime's SDK, stdlib.
IMPORTABLE = {"config", "submitter", "pydantic", "aws_lambda_powertools", "boto3", "botocore"}
TAG = f"cpython-{sys.version_info.major}{sys.version_info.minor}"


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
    # The CLI and the emulator stay out as whole subpackages; every other module ships.
    assert not [n for n in names if n.startswith(("submitter/cli/", "submitter/local/"))]
    shipped = {str(path.relative_to(ROOT)) for path in (ROOT / "submitter").glob("*.py")}
    assert shipped <= names
    tops = {name.split("/")[0] for name in names}
    assert not {t for t in tops if t.split("-")[0].split(".")[0] in HEAVY}
    assert any(name.startswith("pydantic_core/_pydantic_core") for name in names)
    assert "aws_lambda_powertools/__init__.py" in names
    # Bytecode for every module (Lambda's /var/task is read-only: nothing compiled there is kept),
    # for the runtime's Python only.
    sources = [n for n in names if n.endswith(".py")]
    assert len(sources) > 100
    for source in sources:
        folder, _, module = source.rpartition("/")
        cached = f"{folder}/__pycache__/{module[:-3]}.{TAG}.pyc".lstrip("/")
        assert cached in names, source
    assert all(TAG in n for n in names if n.endswith(".pyc"))


@pytest.mark.slow
def test_packaged_code_imports_nothing_the_lambda_lacks(built: Path) -> None:
    """A CLI module (typer, rich) or a job module (pyarrow) must not slip into the zip."""
    archive = zipfile.ZipFile(built)
    ours = [n for n in archive.namelist() if n.split("/")[0] in ("config", "submitter")]
    imported: dict[str, set[str]] = {}
    for name in (n for n in ours if n.endswith(".py")):
        for node in ast.walk(ast.parse(archive.read(name))):
            if isinstance(node, ast.Import):
                tops = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = {node.module.split(".")[0]}
            else:
                continue
            for top in tops - IMPORTABLE - set(sys.stdlib_module_names):
                imported.setdefault(top, set()).add(name)
    assert imported == {}


@pytest.mark.slow
def test_handlers_import_from_the_zip_alone(built: Path, tmp_path: Path) -> None:
    # GIVEN the zip unpacked as Lambda does (boto3 comes from the runtime: here, our venv)
    zipfile.ZipFile(built).extractall(tmp_path)
    code = (
        "import json\n"
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
        "PYTHONDONTWRITEBYTECODE": "1",  # as in Lambda: nothing can be written beside the code
        "PYTHONPATH": str(tmp_path),  # the task root first on the path, as Lambda puts it
    }
    # WHEN the handlers are imported from a directory outside the project
    out = subprocess.run(
        [sys.executable, "-v", "-c", code],  # -v: says where each code object came from
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    # THEN pydantic and the handlers came from the zip
    assert all(path.startswith(str(tmp_path)) for path in json.loads(out.stdout))
    # AND every module from the zip was loaded from its bytecode, none compiled from source
    origin = rf"^# code object from '{re.escape(str(tmp_path))}/(.+)'$"
    loaded = re.findall(origin, out.stderr, re.MULTILINE)
    assert len(loaded) > 50
    assert [name for name in loaded if not name.endswith(f".{TAG}.pyc")] == []
    assert f"submitter/__pycache__/ingest_handler.{TAG}.pyc" in loaded
