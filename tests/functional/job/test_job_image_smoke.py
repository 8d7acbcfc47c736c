"""The image, reproduced without Docker, scores a real job end to end.

No Docker engine here, so this rebuilds what `job/Dockerfile` puts in the image and runs it as
the container would, every fact read from the Dockerfile and Terraform (none restated here):
- the venv: the build stage's own install RUN (`uv export --frozen --no-dev --extra job` +
  `pip install --require-hashes`), run as written with its `/opt/venv` pointing at a cache under
  build/ (keyed by the lock, pyproject, that RUN and the Python), on the Dockerfile's Python minor
  version from pyenv when this machine has it (else the running Python, said in the output);
- the files: only what the final stage COPYs from the context, into a scratch WORKDIR;
- the process: the image's ENTRYPOINT + the Terraform job definition's `command` (`Ref::job_id`
  substituted), from WORKDIR, with the image's ENV, plus what Batch adds (the job definition's
  environment as the test sets it, `AWS_BATCH_*`), against S3 and DynamoDB on a moto server.

It fails when the `job` extra lacks a module the job imports, when a needed file is not copied,
or when the argv is wrong. Cold, it installs the locked dependencies (about a minute here);
warm, it reuses the venv.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import jobdata
from support.paths import ROOT
from support.terraform_hcl import job_definition_command

from config import env
from config.digest import canonical_text, config_sha256
from config.parsing import validate_document
from submitter.local import image, jobs

CACHE = ROOT / "build" / "image-venv"
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
UV = ROOT / ".tools" / "bin" / "uv"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")  # job/Dockerfile.dockerignore

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def find_python(version: str | None) -> tuple[str, str]:
    """The Dockerfile's Python (`3.11`) from pyenv, else this one; and a note saying which."""
    if version:
        for found in sorted(PYENV.glob(f"{version}.*/bin/python{version}"), reverse=True):
            return str(found), f"Python {version} from pyenv, as the Dockerfile's"
    note = f"the Dockerfile's Python {version} is not installed: the running {sys.version[:7]}"
    return sys.executable, note


def install_step(built: image.Image) -> tuple[str, image.Stage, str]:
    """The build stage's install RUN, that stage, and the venv directory the final stage takes
    from it (`COPY --from=build /opt/venv /opt/venv`)."""
    (copy,) = [c for c in built.final.copies if c.stage]
    stage = built.stage(copy.stage)
    (run,) = [r for r in stage.runs if "uv export" in r]
    (venv,) = copy.sources
    return run, stage, venv


def build_venv(built: image.Image, tmp: Path) -> Path:
    """The image's venv, built by the Dockerfile's own step (cached under build/)."""
    run, stage, venv = install_step(built)
    python, note = find_python(built.python_version)
    print(f"image venv: {note}")  # shown with -rP
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True, check=True
    ).stdout
    key = hashlib.sha256()
    for part in ((ROOT / "uv.lock").read_bytes(), (ROOT / "pyproject.toml").read_bytes()):
        key.update(part)
    key.update(f"{run}\n{version}".encode())
    target = CACHE / key.hexdigest()[:16]
    if (target / ".complete").exists():
        return target
    # The build stage's WORKDIR with what it COPYs from the context (pyproject.toml, uv.lock).
    src = tmp / "src"
    src.mkdir()
    for copy in stage.copies:
        if copy.stage is None:
            for source in copy.sources:
                shutil.copy2(ROOT / source, src / Path(source).name)
    bin_dir = tmp / "bin"  # `uv` as the build stage has it (COPY --from=ghcr.io/astral-sh/uv)
    bin_dir.mkdir()
    if not UV.exists():
        pytest.fail(f"{UV} is missing: run `make install`")
    (bin_dir / "uv").symlink_to(UV)
    # `python`: the chosen interpreter's own folder (the venv links to it: it must outlive tmp)
    path = f"{bin_dir}:{Path(python).parent}:{os.environ['PATH']}"
    # venvs hold absolute paths: built where it lives, marked complete last
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["/bin/sh", "-c", run.replace(venv, str(target))],
        cwd=src,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"the Dockerfile's install step failed:\n{result.stderr[-4000:]}"
    (target / ".complete").write_text(note + "\n")
    return target


def test_the_install_step_is_locked_and_hashed():
    run, _, _ = install_step(image.load())
    words = run.split()
    for flag in ("--frozen", "--no-dev", "--require-hashes"):
        assert flag in words, f"the image's install step lacks {flag}"
    assert "--extra job" in " ".join(words)


def test_the_image_scores_a_job_end_to_end(server_aws, job_files, tmp_path):
    built = image.load()
    started = time.monotonic()
    venv = build_venv(built, tmp_path)
    print(f"image venv ready in {time.monotonic() - started:.1f} s: {venv}")

    # GIVEN only what the final stage copies from the context, in a scratch WORKDIR
    workdir = tmp_path / "app"
    for copy in built.final.copies:
        if copy.stage is None:
            for source in copy.sources:
                destination = workdir / Path(copy.dest).relative_to(built.final.workdir)
                if len(copy.sources) > 1 or not source.endswith("/"):
                    destination = destination / Path(source).name
                shutil.copytree(ROOT / source, destination, ignore=IGNORED)
    # AND a job record, as the ingest Lambda leaves it
    document = jobdata.config(
        job_files["model"],
        job_files["input"],
        job_files["output"],
        **{"input.format": "parquet"},
    )
    config = validate_document(document)
    server_aws.create_job("smoke-1", document, config=canonical_text(config))

    # WHEN the container's process runs: ENTRYPOINT + the Terraform command, in WORKDIR, with
    # SubmitJob's parameters
    parameters = {"job_id": "smoke-1", "config_sha256": config_sha256(config)}
    command = jobs.substitute(job_definition_command(), parameters)
    batch_env = {
        name: os.environ[name]
        for name in (
            env.AWS_ENDPOINT_URL,
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
            "AWS_REGION",
            "AWS_EC2_METADATA_DISABLED",
            env.TABLE_NAME,
        )
    }
    paths = {
        built.final.workdir: str(workdir),
        **{copy.dest.rstrip("/"): str(venv) for copy in built.final.copies if copy.stage},
    }
    process = built.local_run(
        command, host_env={"PATH": "/usr/local/bin:/usr/bin:/bin"}, python=None, paths=paths
    )
    assert process.argv[0] == str(venv / "bin" / "python")  # found through the image's PATH
    result = subprocess.run(
        process.argv,
        cwd=process.cwd,
        env={**process.env, **batch_env, env.BATCH_JOB_ID: "b-1", env.BATCH_JOB_ATTEMPT: "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # THEN it scored every row and committed
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    record = server_aws.record("smoke-1")
    assert record["status"] == "SUCCEEDED", record.get("status_reason")
    assert record["rows"] == job_files["data"].num_rows
    assert server_aws.get_json("output/_manifest.json")["rows"] == job_files["data"].num_rows
