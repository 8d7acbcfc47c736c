"""The job-config contract v1 (SPEC.md): every rule of the table, the limits, the error paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import paths

from config.exceptions import ConfigError
from config.models import JobConfig
from config.parsing import MAX_CONFIG_BYTES, field_path, parse_config

from .cases import INVALID, SHA, VALID, with_changes

EXAMPLES = sorted(paths.EXAMPLES.glob("*.json"))


def parse(document: object, **kwargs: Any) -> JobConfig:
    return parse_config(json.dumps(document).encode(), **kwargs)


def problems_of(document: object, **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(document, **kwargs)
    return [str(p) for p in caught.value.problems]


def test_examples_exist_and_are_valid() -> None:
    assert {p.name for p in EXAMPLES} >= {"minimal.json", "full.json"}
    for path in EXAMPLES:
        parse_config(path.read_bytes())


def test_minimal_config_gets_the_documented_defaults() -> None:
    config = parse(VALID)
    assert config.priority == "normal"
    assert config.shards == 1
    assert config.output.format == "parquet"
    assert config.output.predict == "predict"
    assert config.output.overwrite is False
    assert config.output.max_bad_rows == 0  # the first bad row fails the job
    assert config.output.max_bad_fraction == 0.0
    assert config.output.passthrough == []
    assert config.input.features is None
    assert config.model_format == "skops"
    assert config.input_format == "parquet"


@pytest.mark.parametrize(("case_id", "document", "path"), INVALID, ids=[c[0] for c in INVALID])
def test_each_invalid_config_names_the_field(case_id: str, document: dict, path: str) -> None:
    problems = problems_of(document)
    assert any(p.startswith(f"{path}: ") for p in problems), problems


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://mmm/model.skops", "skops"),
        ("s3://mmm/model.SKOPS", "skops"),
        ("s3://mmm/model.joblib", "joblib"),
        ("s3://mmm/model.pkl", "pickle"),
        ("s3://mmm/model.pickle", "pickle"),
    ],
)
def test_model_format_is_inferred_from_the_extension(uri: str, expected: str) -> None:
    document = with_changes(model__uri=uri, model__sha256=SHA)
    assert parse(document).model_format == expected


def test_explicit_model_format_wins_over_the_extension() -> None:
    document = with_changes(model__uri="s3://acme-models/m.bin", model__format="skops")
    assert parse(document).model_format == "skops"


@pytest.mark.parametrize(
    ("uri", "expected"), [("in/x.csv", "csv"), ("in/x.parquet", "parquet"), ("in/x.pq", "parquet")]
)
def test_input_format_is_inferred_from_the_extension(uri: str, expected: str) -> None:
    assert parse(with_changes(input__uri=f"s3://acme-data/{uri}")).input_format == expected


def test_prefix_input_with_explicit_format_is_valid() -> None:
    config = parse(with_changes(input__uri="s3://acme-data/in/", input__format="csv"))
    assert config.input_format == "csv"


def test_error_message_for_the_sha256_pin_is_explicit() -> None:
    problems = problems_of(with_changes(model__uri="s3://acme-models/m.pkl"))
    assert problems == ["model.sha256: required when the model format is pickle"]


def test_sha256_given_for_joblib_is_valid() -> None:
    parse(with_changes(model__uri="s3://acme-models/m.joblib", model__sha256=SHA.upper()))


@pytest.mark.parametrize(
    "uri", ["file:///srv/models/m.skops", "/srv/models/m.skops", "models/m.skops", "s3://b-1/k"]
)
def test_local_paths_file_uris_and_s3_are_accepted(uri: str) -> None:
    parse(with_changes(model__uri=uri, model__format="skops"))


def test_relative_output_inside_relative_input_is_rejected() -> None:
    document = with_changes(
        input__uri="data/",
        input__format="parquet",
        output__uri="file://" + str(Path("data/out/").resolve()) + "/",
    )
    assert any(p.startswith("output.uri: ") for p in problems_of(document))


def test_output_beside_input_with_a_common_prefix_is_valid() -> None:
    # s3://acme-data/in-scored/ starts with the text "s3://acme-data/in" but is not inside it.
    parse(
        with_changes(
            input__uri="s3://acme-data/in/",
            input__format="csv",
            output__uri="s3://acme-data/in-scored/",
        )
    )


def test_vcpus_take_integers_and_fractions() -> None:
    assert parse(with_changes(resources={"vcpus": 2})).resources.vcpus == 2
    assert parse(with_changes(resources={"vcpus": 0.25, "memory_mib": 512})).resources.vcpus == 0.25


@pytest.mark.parametrize("field", ["shards", "attempts", "timeout_seconds"])
def test_integer_bounds_are_inclusive(field: str) -> None:
    low, high = {"shards": (1, 10000), "attempts": (1, 10), "timeout_seconds": (60, 10**6)}[field]
    parse(with_changes(**{field: low}))
    parse(with_changes(**{field: high}))


def test_fifty_tags_are_allowed_and_unicode_values_kept() -> None:
    tags = {f"k{i}": "v" for i in range(49)} | {"owner": "Zoë"}
    assert parse(with_changes(tags=tags)).tags["owner"] == "Zoë"


def test_priority_must_name_a_queue_of_the_deployment() -> None:
    custom = ("gold", "bronze")
    assert parse(with_changes(priority="gold"), queues=custom).priority == "gold"
    problems = problems_of(with_changes(priority="high"), queues=custom)
    assert problems == ["priority: 'high' is not a deployed queue (gold, bronze)"]


def test_default_priority_must_exist_in_the_deployment() -> None:
    assert problems_of(VALID, queues=("gold",))[0].startswith("priority: ")


def test_every_problem_is_reported_not_just_the_first() -> None:
    problems = problems_of(with_changes(shards=0, attempts=99, colour="x"))
    assert {p.split(":")[0] for p in problems} == {"shards", "attempts", "colour"}


# --- size, encoding and JSON ---------------------------------------------------------------


def padded(size: int) -> bytes:
    """VALID as JSON, padded with trailing spaces to exactly `size` bytes."""
    raw = json.dumps(VALID).encode()
    return raw + b" " * (size - len(raw))


def test_config_of_exactly_64_kib_is_accepted() -> None:
    parse_config(padded(MAX_CONFIG_BYTES))


def test_config_over_64_kib_is_rejected_with_its_size() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(padded(MAX_CONFIG_BYTES + 1))
    assert (
        str(caught.value)
        == f"(root): is {MAX_CONFIG_BYTES + 1} bytes; a job config is at most 65536"
    )


def test_invalid_utf8_is_rejected() -> None:
    raw = json.dumps(with_changes(tags={"owner": "X"})).encode().replace(b'"X"', b'"\xff\xfe"')
    with pytest.raises(ConfigError, match=r"\(root\): is not valid UTF-8"):
        parse_config(raw)


def test_utf8_byte_order_mark_is_accepted() -> None:
    parse_config(b"\xef\xbb\xbf" + json.dumps(VALID).encode())


def test_non_ascii_is_accepted() -> None:
    raw = json.dumps(with_changes(tags={"équipe": "données"}), ensure_ascii=False).encode()
    assert parse_config(raw).tags == {"équipe": "données"}


@pytest.mark.parametrize("raw", [b"", b"{", b'{"name": "a",}', b"{'name': 'a'}", b"nope"])
def test_invalid_json_is_rejected_with_position(raw: bytes) -> None:
    with pytest.raises(ConfigError, match=r"\(root\): is not valid JSON: .*line \d+, column \d+"):
        parse_config(raw)


@pytest.mark.parametrize(
    ("raw", "kind"), [(b"[]", "list"), (b'"x"', "str"), (b"null", "null"), (b"3", "int")]
)
def test_non_object_root_is_rejected(raw: bytes, kind: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert str(caught.value) == f"(root): must be a JSON object, got {kind}"


def test_nan_is_not_a_json_number() -> None:
    raw = json.dumps(VALID).encode()[:-1] + b', "resources": {"vcpus": NaN}}'
    with pytest.raises(ConfigError, match="NaN"):
        parse_config(raw)


def test_duplicate_keys_are_rejected() -> None:
    raw = json.dumps(VALID).encode()[:-1] + b', "name": "other"}'
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert str(caught.value) == "name: appears more than once in the same object"


@pytest.mark.parametrize(
    ("location", "path"),
    [
        (("model", "sha256"), "model.sha256"),
        (("input", "features", 2), "input.features[2]"),
        ((), "(root)"),
    ],
)
def test_field_paths_read_like_the_config(location: tuple, path: str) -> None:
    assert field_path(location) == path
