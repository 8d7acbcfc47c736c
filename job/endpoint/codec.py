"""JSON in and out of the endpoint with orjson: 1,000 records cost about 7 ms each way with the
standard library's json (docs/endpoint.md, the benchmark), a fraction of that with orjson.

The standard library stays the reference for what a body means: a body orjson refuses (its
strict RFC 8259 parser refuses the NaN/Infinity literals Python's json writes, lone
surrogates, invalid UTF-8) is parsed again by `json.loads`, which accepts it as before or
raises the same error as before. The fallback costs only those bodies. One difference is left:
orjson reads an integer beyond 64 bits as the nearest float, without an error, where the
standard library's int was then refused by Arrow (a 400).
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(body: bytes) -> Any:
    """The body's document, as `json.loads` reads it (raises json.JSONDecodeError or
    UnicodeDecodeError as it does)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def dumps(document: Any) -> bytes:
    """Compact JSON; NaN and infinities become null, as JSON has neither (orjson's default)."""
    return orjson.dumps(document)
