"""The committed JSON Schema is current and never accepts less than the validator rejects."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from support import paths

from config import reference
from config.exceptions import ConfigError
from config.parsing import parse_config
from config.schema import SCHEMA_PATH, render

from .cases import INVALID, VALID

EXAMPLES = sorted(paths.EXAMPLES.glob("*.json"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text() == render(), (
        "config/job-config.schema.json is stale: make schema"
    )


def test_committed_reference_is_current() -> None:
    assert reference.REFERENCE_PATH.read_text() == reference.render(), (
        "docs/job-config.md: make schema"
    )
    assert "| `model.sha256` |" in reference.render()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_schema_and_validator_accept_every_example(validator, path: Path) -> None:
    document = json.loads(path.read_text())
    assert list(validator.iter_errors(document)) == []
    parse_config(path.read_bytes())


def test_schema_accepts_the_minimal_valid_document(validator) -> None:
    assert validator.is_valid(VALID)


@pytest.mark.parametrize(("case_id", "document", "path"), INVALID, ids=[c[0] for c in INVALID])
def test_what_the_schema_rejects_the_validator_rejects(validator, case_id, document, path) -> None:
    schema_rejects = not validator.is_valid(document)
    with pytest.raises(ConfigError):
        parse_config(json.dumps(document).encode())
    if schema_rejects:
        # Both reject, and the schema's complaint is about the same field.
        error_paths = {
            ".".join(str(p) for p in e.absolute_path) for e in validator.iter_errors(document)
        }
        field = path.split("[")[0]
        assert any(
            p == field or p.startswith(field + ".") or field.startswith(p) for p in error_paths
        ), (error_paths, path)


def test_schema_catches_most_per_field_rules(validator) -> None:
    # Only the cross-field rules and the custom checks are the validator's alone.
    validator_only = {
        "priority-unknown-queue",
        "model-uri-http",
        "model-uri-prefix",
        "model-uri-no-key",
        "model-uri-bad-bucket",
        "model-format-not-inferable",
        "sha-required-pickle",
        "sha-required-joblib",
        "trusted-types-for-pickle",
        "input-uri-ftp",
        "input-format-prefix",
        "input-format-not-inferable",
        "features-duplicate",
        "passthrough-duplicate",
        "passthrough-reserved",
        "output-uri-not-prefix",
        "output-equals-input",
        "output-inside-input",
        "output-inside-input-file",
        "tags-reserved-prefix",
        # JSON Schema counts 2.0 as an integer; the strict validator does not.
        "shards-float",
        "bad-rows-float",
    }
    missed = {case_id for case_id, document, _ in INVALID if validator.is_valid(document)}
    assert missed <= validator_only, missed - validator_only
