"""The Lambda entry point (job/Dockerfile, target `endpoint`: `python -m awslambdaric
job.endpoint.handler.handler`). Init (this module's import) reads the endpoint config from the
environment and loads the model once; a model that cannot load leaves every request a 500 and
its reason in the log."""

from __future__ import annotations

import os
from typing import Any

# As `python -m job` does: scikit-learn would import pandas (about a second of the cold start)
# though only a model fed a DataFrame needs it, and job.frames imports it then.
from job.frames import allow_pandas, hide_pandas

hide_pandas()
try:
    from config import env
    from job import logs
    from job.endpoint.events import App, build_app
finally:
    allow_pandas()


def _init() -> App:
    logs.configure()
    return build_app(os.environ.get(env.ENDPOINT_CONFIG))


APP = _init()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return APP(event)
