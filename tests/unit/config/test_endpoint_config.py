"""The endpoint config: the job config's model rules and paths, plus limits."""

from __future__ import annotations

import json

import pytest

from config.endpoint import LAMBDA_PAYLOAD_BYTES, EndpointConfig, parse_endpoint_config

SHA = "ab" * 32


def test_a_minimal_config_takes_the_job_configs_defaults():
    config = EndpointConfig.model_validate(
        {"name": "e", "model": {"uri": "s3://models-bucket/m.skops"}}
    )

    assert config.model_format == "skops"
    assert config.input.features is None
    assert (config.output.passthrough, config.output.predict) == ([], "predict")
    assert config.limits.max_request_bytes < LAMBDA_PAYLOAD_BYTES


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"model": {"uri": "m.pkl"}}, "model.sha256"),  # a pickle needs its pin, as in a job
        ({"model": {"uri": "m.bin"}}, "model.format"),
        ({"model": {"uri": "m.skops", "trusted_types": ["a.B"]}}, "model.sha256"),
        ({"model": {"uri": "m.skops", "trusted_types": ["os.system"], "sha256": SHA}}, "os"),
        ({"model": {"uri": "m.skops"}, "output": {"passthrough": ["prediction"]}}, "passthrough"),
        ({"model": {"uri": "m.skops"}, "input": {"features": ["a", "a"]}}, "input.features"),
        ({"model": {"uri": "m.skops"}, "limits": {"max_rows": 0}}, "limits.max_rows"),
        ({"model": {"uri": "m.skops"}, "limits": {"max_response_bytes": 7 << 20}}, "limits"),
        ({"model": {"uri": "m.skops"}, "output": {"uri": "s3://models-bucket/o/"}}, "output.uri"),
        ({"model": {"uri": "ftp://h/m.skops"}}, "model.uri"),
    ],
)
def test_a_wrong_config_names_the_field(document, field):
    with pytest.raises(ValueError, match=r"endpoint\.json") as error:
        parse_endpoint_config(json.dumps({"name": "e"} | document), "endpoint.json")

    assert field in str(error.value)
