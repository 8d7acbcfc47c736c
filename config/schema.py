"""The JSON Schema of the job config, made from the models: `python -m config.schema [--check]`.

The schema is for editors and other languages. It holds every per-field rule; the rules that span
fields (format inference, the SHA-256 pin, output-not-inside-input, the deployment's queues) are
the validator's alone, so the schema may accept a config the validator rejects, never the reverse.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from config.models import JobConfig

SCHEMA_PATH = Path(__file__).with_name("job-config.schema.json")


def job_config_schema() -> dict[str, Any]:
    schema = JobConfig.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def render() -> str:
    return json.dumps(job_config_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        if not SCHEMA_PATH.exists() or SCHEMA_PATH.read_text() != render():
            print(f"{SCHEMA_PATH} is stale: run `make schema`", file=sys.stderr)
            return 1
        return 0
    SCHEMA_PATH.write_text(render())
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
