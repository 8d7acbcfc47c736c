"""The endpoint's JSON (job/endpoint/codec.py): orjson's speed, the standard library's meaning."""

from __future__ import annotations

import json

import pytest

from job.endpoint import codec


@pytest.mark.parametrize(
    "body",
    [
        b'{"rows": [{"a": 1, "b": "x", "c": null, "d": true, "e": 0.1}]}',
        '[{"name": "Zoë", "v": 1e-05}]'.encode(),
        b'{"rows": [{"big": 18446744073709551615, "neg": -9223372036854775808}]}',
    ],
)
def test_loads_reads_what_the_standard_library_reads(body):
    assert codec.loads(body) == json.loads(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"rows": [{"a": NaN, "b": Infinity, "c": -Infinity}]}',  # json.dumps writes these
        b'{"rows": [{"a": "\\ud800"}]}',  # a lone surrogate
    ],
)
def test_loads_still_accepts_what_orjson_refuses_and_json_accepted(body):
    """orjson's strict parser refuses these; the endpoint read them before and still does."""
    assert repr(codec.loads(body)) == repr(json.loads(body))


def test_an_integer_beyond_64_bits_is_read_as_the_nearest_float_the_one_difference():
    """The standard library read it as an int, which Arrow then refused (a 400); orjson reads
    it as a float, without an error (docs/endpoint.md)."""
    assert codec.loads(b"[123456789012345678901234567890]") == [1.2345678901234568e29]


@pytest.mark.parametrize("body", [b"{not json", b"", b'{"rows": [1,]}', b"\xff\xfe"])
def test_loads_raises_the_standard_library_error(body):
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)) as caught:
        json.loads(body)
    with pytest.raises(type(caught.value)) as ours:
        codec.loads(body)
    assert str(ours.value) == str(caught.value)


def test_dumps_is_compact_json_with_nan_and_infinities_as_null():
    document = {"rows": 2, "p": [{"a": float("nan"), "b": float("inf"), "c": -float("inf")}]}
    body = codec.dumps(document)
    assert body == b'{"rows":2,"p":[{"a":null,"b":null,"c":null}]}'
    assert json.loads(body) == {"rows": 2, "p": [{"a": None, "b": None, "c": None}]}


def test_dumps_floats_read_back_exactly():
    values = [0.1, 1e-05, 1 / 3, 2.5e16, 5e-324, 1.7976931348623157e308, -0.0]
    assert json.loads(codec.dumps(values)) == values
