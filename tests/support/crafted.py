"""Hostile model files, as an attacker would craft them (no pytest in here)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import skops.io as sio


def _json_node(value: Any, node_id: int) -> dict[str, Any]:
    return {
        "__id__": node_id,
        "__class__": type(value).__name__,
        "__module__": "builtins",
        "__loader__": "JsonNode",
        "content": json.dumps(value),
        "is_json": True,
    }


def skops_calling(estimator: Any, module: str, name: str, *args: Any) -> bytes:
    """`estimator` saved with skops, plus one extra attribute whose value skops builds by calling
    `module.name(*args)` while loading (a ConstructorFromReduceNode). The estimator still
    scores: the attribute is ignored by scikit-learn. `get_untrusted_types` lists
    `module.name`, so the refusal message names it. (Node ids are small numbers: the saved
    ones are memory addresses, so they never collide.)"""
    source = zipfile.ZipFile(io.BytesIO(sio.dumps(estimator)))
    schema = json.loads(source.read("schema.json"))
    attributes = schema["content"]
    key_types = attributes["key_types"]["content"]  # one per key: the new key is a str too
    key_types.append({**key_types[-1], "__id__": 0})
    attributes["content"]["_crafted"] = {
        "__id__": 1,
        "__class__": name,
        "__module__": module,
        "__loader__": "ConstructorFromReduceNode",
        "content": {
            "__id__": 2,
            "__class__": "tuple",
            "__module__": "builtins",
            "__loader__": "TupleNode",
            "content": [_json_node(arg, 3 + i) for i, arg in enumerate(args)],
        },
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            data = json.dumps(schema).encode() if item == "schema.json" else source.read(item)
            target.writestr(item, data)
    return out.getvalue()
