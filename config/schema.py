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


def write_or_check(path: Path, text: str, argv: list[str]) -> int:
    """`main` of a generated file: write it, or with `--check` fail when it differs from `text`."""
    if argv == ["--check"]:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is stale: run `make schema`", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
    return 0


def main(argv: list[str]) -> int:
    return write_or_check(SCHEMA_PATH, render(), argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
