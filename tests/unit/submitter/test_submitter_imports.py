"""The Lambda handlers import nothing heavy: pandas, pyarrow, scikit-learn stay out of the zip."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from config import env

HEAVY = ("pandas", "pyarrow", "sklearn", "numpy", "scipy", "typer", "rich")


@pytest.mark.parametrize(
    ("module", "also_absent"),
    [
        ("submitter.ingest_handler", ()),
        # It validates no config: pydantic would only lengthen its cold start (~0.15 s here).
        ("submitter.state_handler", ("pydantic", "pydantic_core")),
    ],
)
def test_handler_module_imports_no_heavy_package(module: str, also_absent: tuple[str, ...]) -> None:
    environment = {
        **os.environ,
        env.TABLE_NAME: "jobs",
        env.JOB_DEFINITION: "jd",
        env.QUEUES: "high,normal,low",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    code = (
        f"import json, sys, {module}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out))
    assert not loaded & {*HEAVY, *also_absent}
