"""Invalid job configs, each with the field path the validator must name.

Shared by the contract tests and the schema-agreement test: every case here is rejected by the
validator, and any case the JSON Schema rejects must be one of them.
"""

from __future__ import annotations

import copy
from typing import Any

from support.documents import set_paths

VALID: dict[str, Any] = {
    "name": "churn-daily",
    "model": {"uri": "s3://acme-models/churn/model.skops"},
    "input": {"uri": "s3://acme-data/churn/day.parquet"},
    "output": {"uri": "s3://acme-results/churn/day/"},
}
SHA = "a" * 64


def with_changes(**changes: Any) -> dict[str, Any]:
    """VALID with dotted-path changes applied (`model__sha256="x"`); the value DELETE removes it."""
    return set_paths(copy.deepcopy(VALID), changes, separator="__", delete=DELETE)


DELETE = object()

# (id, document, the path the first matching problem must name)
INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("unknown-top-key", with_changes(colour="blue"), "colour"),
    ("unknown-nested-key", with_changes(model__colour="blue"), "model.colour"),
    ("unknown-resources-key", with_changes(resources={"gpus": 1}), "resources.gpus"),
    ("schema-version-2", with_changes(schema_version=2), "schema_version"),
    ("schema-version-string", with_changes(schema_version="1"), "schema_version"),
    ("name-missing", with_changes(name=DELETE), "name"),
    ("name-empty", with_changes(name=""), "name"),
    ("name-too-long", with_changes(name="a" * 65), "name"),
    ("name-leading-dash", with_changes(name="-churn"), "name"),
    ("name-space", with_changes(name="churn daily"), "name"),
    ("name-not-string", with_changes(name=42), "name"),
    ("job-id-bad-char", with_changes(job_id="a/b"), "job_id"),
    ("job-id-too-long", with_changes(job_id="j" * 65), "job_id"),
    ("priority-unknown-queue", with_changes(priority="urgent"), "priority"),
    ("priority-bad-char", with_changes(priority="high!"), "priority"),
    ("priority-not-string", with_changes(priority=1), "priority"),
    ("model-missing", with_changes(model=DELETE), "model"),
    ("model-not-object", with_changes(model="s3://b/m.skops"), "model"),
    ("model-uri-missing", with_changes(model={"format": "skops"}), "model.uri"),
    ("model-uri-http", with_changes(model__uri="https://example.com/m.skops"), "model.uri"),
    ("model-uri-prefix", with_changes(model__uri="s3://acme-models/churn/"), "model.uri"),
    ("model-uri-no-key", with_changes(model__uri="s3://acme-models"), "model.uri"),
    ("model-uri-bad-bucket", with_changes(model__uri="s3://Bad_Bucket/m.skops"), "model.uri"),
    ("model-format-unknown", with_changes(model__format="onnx"), "model.format"),
    (
        "model-format-not-inferable",
        with_changes(model__uri="s3://acme-models/m.bin"),
        "model.format",
    ),
    ("sha-required-pickle", with_changes(model__uri="s3://acme-models/m.pkl"), "model.sha256"),
    ("sha-required-joblib", with_changes(model__format="joblib"), "model.sha256"),
    ("sha-too-short", with_changes(model__sha256="abc"), "model.sha256"),
    ("sha-not-hex", with_changes(model__sha256="z" * 64), "model.sha256"),
    ("trusted-types-not-list", with_changes(model__trusted_types="x.Y"), "model.trusted_types"),
    (
        "trusted-types-item",
        with_changes(model__trusted_types=["ok.T", 3]),
        "model.trusted_types[1]",
    ),
    (
        "trusted-types-for-pickle",
        with_changes(
            model__uri="s3://acme-models/m.pkl", model__sha256=SHA, model__trusted_types=["a.B"]
        ),
        "model.trusted_types",
    ),
    ("input-missing", with_changes(input=DELETE), "input"),
    ("input-uri-ftp", with_changes(input__uri="ftp://host/data.csv"), "input.uri"),
    ("input-format-unknown", with_changes(input__format="json"), "input.format"),
    ("input-format-prefix", with_changes(input__uri="s3://acme-data/churn/"), "input.format"),
    ("input-format-not-inferable", with_changes(input__uri="s3://acme-data/x.txt"), "input.format"),
    ("features-empty", with_changes(input__features=[]), "input.features"),
    ("features-duplicate", with_changes(input__features=["a", "b", "a"]), "input.features"),
    ("features-item-empty", with_changes(input__features=["a", ""]), "input.features[1]"),
    ("features-item-number", with_changes(input__features=["a", "b", 7]), "input.features[2]"),
    ("output-missing", with_changes(output=DELETE), "output"),
    (
        "output-uri-not-prefix",
        with_changes(output__uri="s3://acme-results/out.parquet"),
        "output.uri",
    ),
    (
        "output-equals-input",
        with_changes(
            input__uri="s3://acme-data/in/", input__format="csv", output__uri="s3://acme-data/in/"
        ),
        "output.uri",
    ),
    (
        "output-inside-input",
        with_changes(
            input__uri="s3://acme-data/in/",
            input__format="csv",
            output__uri="s3://acme-data/in/out/",
        ),
        "output.uri",
    ),
    (
        "output-inside-input-file",
        with_changes(output__uri="s3://acme-data/churn/day.parquet/"),
        "output.uri",
    ),
    ("output-format-json", with_changes(output__format="json"), "output.format"),
    ("passthrough-duplicate", with_changes(output__passthrough=["id", "id"]), "output.passthrough"),
    ("passthrough-not-list", with_changes(output__passthrough="id"), "output.passthrough"),
    (
        "passthrough-reserved",
        with_changes(output__passthrough=["id", "prediction"]),
        "output.passthrough[1]",
    ),
    ("predict-unknown", with_changes(output__predict="decision_function"), "output.predict"),
    ("overwrite-string", with_changes(output__overwrite="true"), "output.overwrite"),
    ("overwrite-int", with_changes(output__overwrite=1), "output.overwrite"),
    ("bad-rows-negative", with_changes(output__max_bad_rows=-1), "output.max_bad_rows"),
    ("bad-rows-float", with_changes(output__max_bad_rows=2.0), "output.max_bad_rows"),
    ("bad-rows-string", with_changes(output__max_bad_rows="5"), "output.max_bad_rows"),
    ("bad-rows-bool", with_changes(output__max_bad_rows=True), "output.max_bad_rows"),
    (
        "bad-fraction-negative",
        with_changes(output__max_bad_fraction=-0.1),
        "output.max_bad_fraction",
    ),
    ("bad-fraction-above-1", with_changes(output__max_bad_fraction=1.5), "output.max_bad_fraction"),
    (
        "bad-fraction-string",
        with_changes(output__max_bad_fraction="0.1"),
        "output.max_bad_fraction",
    ),
    ("shards-zero", with_changes(shards=0), "shards"),
    ("shards-too-many", with_changes(shards=10001), "shards"),
    ("shards-string", with_changes(shards="2"), "shards"),
    ("shards-float", with_changes(shards=2.0), "shards"),
    ("shards-bool", with_changes(shards=True), "shards"),
    ("vcpus-zero", with_changes(resources={"vcpus": 0}), "resources.vcpus"),
    ("vcpus-negative", with_changes(resources={"vcpus": -1}), "resources.vcpus"),
    ("vcpus-string", with_changes(resources={"vcpus": "2"}), "resources.vcpus"),
    ("memory-too-small", with_changes(resources={"memory_mib": 511}), "resources.memory_mib"),
    ("memory-float", with_changes(resources={"memory_mib": 1024.5}), "resources.memory_mib"),
    ("timeout-too-short", with_changes(timeout_seconds=59), "timeout_seconds"),
    ("timeout-string", with_changes(timeout_seconds="3600"), "timeout_seconds"),
    ("attempts-zero", with_changes(attempts=0), "attempts"),
    ("attempts-eleven", with_changes(attempts=11), "attempts"),
    ("tags-not-object", with_changes(tags=["a"]), "tags"),
    ("tags-value-number", with_changes(tags={"team": 5}), "tags.team"),
    ("tags-too-many", with_changes(tags={f"k{i}": "v" for i in range(51)}), "tags"),
    ("tags-reserved-prefix", with_changes(tags={"aws:owner": "me"}), "tags"),
    ("tags-value-too-long", with_changes(tags={"k": "v" * 257}), "tags.k"),
]
