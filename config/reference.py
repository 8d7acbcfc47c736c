"""The job-config reference for people, rendered from the JSON Schema: `python -m config.reference`.

docs/job-config.md is generated, so the reference cannot drift from the contract (a test checks it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from config.schema import job_config_schema, write_or_check

REFERENCE_PATH = Path(__file__).parents[1] / "docs" / "job-config.md"

HEADER = """# Job-config reference (version 1)

Generated from `config/job-config.schema.json` by `make schema`; do not edit by hand.

A job config is a JSON object, UTF-8, at most 64 KiB. Unknown keys are errors at every level.
Besides the per-field rules below, the validator checks rules that span fields: `model.format` and
`input.format` are inferred from the extension when absent (`.skops`, `.joblib`, `.pkl`,
`.pickle`; `.parquet`, `.pq`, `.csv`), `model.sha256` is required for joblib and pickle models,
`input.format` is required for a prefix, `output.uri` must not equal or lie inside `input.uri`,
and `priority` must name a queue of the deployment.

| field | type | required | default | rules | meaning |
|---|---|---|---|---|---|
"""


def rows(schema: dict[str, Any], node: dict[str, Any], prefix: str = "") -> list[str]:
    lines = []
    required = set(node.get("required", []))
    for name, prop in node["properties"].items():
        path = f"{prefix}{name}"
        target = _resolve(schema, prop)
        lines.append(
            "| `{}` | {} | {} | {} | {} | {} |".format(
                path,
                _type(target),
                "yes" if name in required else "",
                _default(prop),
                _rules(target),
                prop.get("description", target.get("description", "")).replace("|", "\\|"),
            )
        )
        if target.get("type") == "object" and "properties" in target:
            lines.extend(rows(schema, target, prefix=f"{path}."))
    return lines


def _resolve(schema: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    """The non-null alternative of a property, with `$ref`s followed."""
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    chosen = options[0]
    if "$ref" in chosen:
        chosen = schema["$defs"][chosen["$ref"].rsplit("/", 1)[-1]]
    return {**chosen, **{k: v for k, v in prop.items() if k in ("description",)}}


def _type(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    kind: str = prop.get("type", "")
    if kind == "array":
        return f"list of {prop['items'].get('type', '')}"
    return {"object": "object", "number": "number", "integer": "int", "boolean": "bool"}.get(
        kind, kind
    )


def _default(prop: dict[str, Any]) -> str:
    if "default" not in prop or prop["default"] in (None, [], {}):
        return ""
    return f"`{json.dumps(prop['default'])}`"


def _rules(prop: dict[str, Any]) -> str:
    rules = []
    for key, text in (
        ("minLength", "length >= {}"),
        ("maxLength", "length <= {}"),
        ("minimum", ">= {}"),
        ("exclusiveMinimum", "> {}"),
        ("maximum", "<= {}"),
        ("minItems", "at least {} item(s)"),
        ("maxProperties", "at most {} entries"),
        ("pattern", "matches `{}`"),
    ):
        if key in prop:
            rules.append(text.format(prop[key]))
    if prop.get("uniqueItems"):
        rules.append("unique")
    if prop.get("type") == "array" and "maxLength" in prop["items"]:
        rules.append(f"items 1-{prop['items']['maxLength']} chars")
    return "; ".join(rules).replace("|", "\\|")


def render() -> str:
    schema = job_config_schema()
    return HEADER + "\n".join(rows(schema, schema)) + "\n"


def main(argv: list[str]) -> int:
    return write_or_check(REFERENCE_PATH, render(), argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
