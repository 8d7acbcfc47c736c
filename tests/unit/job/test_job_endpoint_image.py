"""Contract: the endpoint's Lambda image is the job's image with another entry point (no Docker
engine here: both stages are read from job/Dockerfile, as submitter.local.image reads them).

AWS Lambda Developer Guide, "Using an alternative base image with the runtime interface client":
an image not built on an AWS base image sets ENTRYPOINT to the runtime interface client
(`python -m awslambdaric`) and CMD to the handler, `module.function`, importable from the
image's working directory."""

from __future__ import annotations

import importlib
import tomllib

from support.paths import ROOT

from submitter.local import image

DOCKERFILE = ROOT / "job" / "Dockerfile"


def stages() -> tuple[image.Stage, image.Stage]:
    built = image.parse(DOCKERFILE.read_text())
    return built.stage("endpoint"), built.final


def test_the_endpoint_runs_the_lambda_runtime_interface_client_with_the_handler():
    endpoint, _ = stages()

    assert endpoint.entrypoint == ("python", "-m", "awslambdaric")
    (handler,) = endpoint.cmd
    module, function = handler.rsplit(".", 1)
    assert callable(getattr(importlib.import_module(module), function))


def test_the_endpoint_stage_is_the_job_stage_but_for_its_venv_and_entry_point():
    """What could drift between the two images (the code copied, the user, the environment,
    the base) is the same; the only differences are the ones the endpoint needs."""
    endpoint, job = stages()

    assert endpoint.base == job.base
    assert endpoint.workdir == job.workdir
    assert endpoint.user == job.user
    assert endpoint.runs == job.runs
    assert [c for c in endpoint.copies if c.stage is None] == [
        c for c in job.copies if c.stage is None
    ]
    assert {k: v for k, v in endpoint.env.items() if k != "PYTHONPATH"} == job.env
    # The handler's module is found from WORKDIR whatever the runtime puts on sys.path first.
    assert endpoint.env["PYTHONPATH"] == endpoint.workdir


def test_the_endpoint_venv_is_the_jobs_install_step_plus_the_endpoint_extra():
    built = image.parse(DOCKERFILE.read_text())
    endpoint, job = stages()
    (job_venv,) = [c for c in job.copies if c.stage]
    (endpoint_venv,) = [c for c in endpoint.copies if c.stage]
    job_run = next(r for r in built.stage(str(job_venv.stage)).runs if "uv export" in r)
    endpoint_run = next(r for r in built.stage(str(endpoint_venv.stage)).runs if "uv export" in r)

    assert endpoint_run == job_run.replace("--extra job", "--extra job --extra endpoint")
    assert (endpoint_venv.sources, endpoint_venv.dest) == (job_venv.sources, job_venv.dest)
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(d.startswith("awslambdaric") for d in extras["optional-dependencies"]["endpoint"])
