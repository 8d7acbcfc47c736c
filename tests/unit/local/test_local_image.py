"""submitter.local.image: the Dockerfile's final stage, and Docker's ENTRYPOINT + Cmd join."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from submitter.local import image

DOCKERFILE = """
# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \\
    GREETING="hello world"
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY config/ config/
COPY job/ job/
RUN useradd --uid 10001 --no-create-home scorer
USER 10001
ENTRYPOINT ["python", "-m", "job"]
CMD ["--help"]
"""


def test_final_stage_facts():
    built = image.parse(DOCKERFILE, context=Path("/repo"))
    final = built.final
    assert built.python_version == "3.11"
    assert final.entrypoint == ("python", "-m", "job")
    assert final.cmd == ("--help",)
    assert final.workdir == "/app"
    assert final.env == {"PATH": "/opt/venv/bin:$PATH", "GREETING": "hello world"}
    assert final.user == "10001"
    assert [(c.sources, c.dest, c.stage) for c in final.copies] == [
        (("/opt/venv",), "/opt/venv", "build"),
        (("config/",), "/app/config/", None),
        (("job/",), "/app/job/", None),
    ]
    assert built.stage("build").workdir == "/src"


def test_the_command_follows_the_entrypoint_and_replaces_cmd():
    built = image.parse(DOCKERFILE)
    assert built.argv(["run", "--job-id", "j"]) == ["python", "-m", "job", "run", "--job-id", "j"]
    assert built.argv([]) == ["python", "-m", "job", "--help"]
    # the bug of issue 12: a full command after an ENTRYPOINT repeats it
    assert built.argv(["python", "-m", "job", "run"])[:4] == ["python", "-m", "job", "python"]


def test_without_entrypoint_the_command_is_the_whole_argv():
    built = image.parse('FROM python:3.11-slim\nCMD ["python", "-m", "job", "--help"]\n')
    assert built.argv(["python", "-m", "job", "run"]) == ["python", "-m", "job", "run"]
    assert built.argv(None) == ["python", "-m", "job", "--help"]


def test_shell_form_entrypoint_ignores_the_command():
    built = image.parse("FROM alpine\nENTRYPOINT exec python -m job\n")
    assert built.argv(["run"]) == ["/bin/sh", "-c", "exec python -m job"]


def test_entrypoint_resets_only_an_inherited_cmd():
    inherited = image.parse('FROM alpine AS base\nCMD ["a"]\nFROM base\nENTRYPOINT ["e"]\n')
    assert inherited.argv(None) == ["e"]
    own = image.parse('FROM alpine\nCMD ["a"]\nENTRYPOINT ["e"]\n')
    assert own.argv(None) == ["e", "a"]
    with pytest.raises(ValueError, match="neither"):
        image.parse("FROM alpine\n").argv(None)


def test_local_run_maps_the_image_paths_to_this_machine(tmp_path):
    built = image.parse(DOCKERFILE, context=tmp_path)
    run = built.local_run(["run"], host_env={"PATH": "/usr/bin", "HOME": "/root"}, python="/py")
    assert run.argv == ["/py", "-m", "job", "run"]
    assert run.cwd == tmp_path  # WORKDIR: the build context, which it mirrors
    assert run.env["PATH"] == f"{sys.prefix}/bin:/usr/bin"  # the venv: this interpreter's
    assert run.env["GREETING"] == "hello world"
    assert run.env["HOME"] == image.MISSING_HOME  # useradd --no-create-home


def test_a_copy_that_does_not_mirror_the_context_is_refused():
    built = image.parse("FROM python:3.11\nWORKDIR /app\nCOPY job/ lib/job/\n")
    with pytest.raises(ValueError, match="same path"):
        built.context_paths()
