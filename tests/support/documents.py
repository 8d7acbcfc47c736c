"""Nested JSON documents (job configs) changed by path, for the config builders of the tests."""

from __future__ import annotations

from typing import Any


def set_paths(
    document: dict[str, Any], changes: dict[str, Any], *, separator: str, delete: object
) -> dict[str, Any]:
    """`document` with each change applied in place and returned: a key is a path of field names
    joined by `separator` (parents created as needed); the value `delete` removes the field."""
    for path, value in changes.items():
        *parents, leaf = path.split(separator)
        node = document
        for parent in parents:
            node = node.setdefault(parent, {})
        if value is delete:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return document
