"""Fixtures for the job's unit tests: a scratch folder with a model, inputs and a config."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import jobdata


@dataclass
class Scratch:
    """A local job: model file, input file(s), an output prefix, and a way to run it."""

    root: Path
    model: Path
    estimator: Any
    input: Path
    output: Path

    def config(self, **changes: Any) -> dict[str, Any]:
        return jobdata.config(str(self.model), str(self.input), f"{self.output}/", **changes)

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.output / "_manifest.json").read_text())


@pytest.fixture
def scratch(tmp_path: Path) -> Scratch:
    estimator = jobdata.fit()
    model = tmp_path / "model.skops"
    jobdata.save_model(estimator, model)
    data = jobdata.write_table(jobdata.table(3000), tmp_path / "in" / "data.parquet")
    return Scratch(tmp_path, model, estimator, data, tmp_path / "out")


@pytest.fixture
def run_score(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    """Run `python -m job score` in-process on a config dict; return (exit code, stdout lines)."""
    from job.commands import main

    def run(document: dict[str, Any], *extra: str) -> tuple[int, list[str]]:
        path = jobdata.write_config(tmp_path / "job.json", document)
        code = main(["score", str(path), *extra])
        return code, capsys.readouterr().out.strip().splitlines()

    return run
