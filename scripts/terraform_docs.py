"""Render the Inputs and Outputs of terraform/README.md from terraform/variables.tf and outputs.tf.

`python scripts/terraform_docs.py` rewrites the README's generated parts, each between a
`<!-- BEGIN terraform_docs.py: NAME -->` and an `<!-- END terraform_docs.py: NAME -->` line
(NAME: `inputs`, `outputs`); everything else in the README is prose kept by hand. With `--check`
it changes nothing and fails when a generated part is stale, like `python -m config.reference
--check` (`make docs` / `make check-docs`; a test runs the check).

Inputs: one row per variable in file order (name, type, default, description), then an HCL block
for each default too large for a table cell (maps of objects, such as `queues`). Outputs: name and
description. Types are shown as written, with an object's attributes elided (`map(object)`);
descriptions have their whitespace collapsed, so heredocs read as one paragraph.

Usage: python scripts/terraform_docs.py [--check] [--terraform-dir DIR] [--readme PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[1]
TERRAFORM_DIR = ROOT / "terraform"
# strip_string_quotes: python-hcl2 7+ keeps a string's quotes unless told otherwise. Heredocs are
# kept as written (`_text` unwraps them): turned into strings, their quotes would stay escaped.
OPTIONS = SerializationOptions(strip_string_quotes=True, with_comments=False)
HEREDOC = re.compile(r"<<-?(\w+)\n(.*)\n\s*\1", re.DOTALL)
MARKER = "terraform_docs.py"
# A default longer than this (or a map of objects) is shown below the table instead of in it.
MAX_CELL = 40


def load(path: Path) -> dict[str, dict[str, Any]]:
    """`{name: body}` of every block of `path` (variables or outputs), in file order."""
    with path.open() as file:
        document = hcl2.load(file, serialization_options=OPTIONS)
    blocks: dict[str, dict[str, Any]] = {}
    for entry in document.get("variable", []) + document.get("output", []):
        blocks.update({k: v for k, v in entry.items() if not k.startswith("__")})
    return blocks


def _text(value: str) -> str:
    """A description (a string or a heredoc) as one Markdown table cell."""
    if heredoc := HEREDOC.fullmatch(value):
        value = heredoc[2]
    return " ".join(value.split()).replace("|", "\\|")


def _type(expression: str) -> str:
    """`${map(object({a = number}))}` -> `map(object)`."""
    expression = expression.removeprefix("${").removesuffix("}")
    while (start := expression.find("object(")) >= 0:
        depth, end = 0, start + len("object")
        for end in range(start + len("object"), len(expression)):
            depth += {"(": 1, ")": -1}.get(expression[end], 0)
            if depth == 0:
                break
        expression = expression[:start] + "object" + expression[end + 1 :]
    return expression


def _hcl(value: Any) -> str:
    """A default as HCL on one line (JSON's literals are HCL's, but maps use `key = value`)."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{k} = {_hcl(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(v) for v in value) + "]"
    return json.dumps(value)


def _is_large(value: Any) -> bool:
    nested = isinstance(value, dict) and any(isinstance(v, dict) for v in value.values())
    return nested or len(_hcl(value)) > MAX_CELL


def _hcl_block(value: dict[str, Any]) -> str:
    """A map default as a fenced HCL block, one entry a line, `=` aligned like `terraform fmt`."""
    width = max(len(key) for key in value)
    lines = [f"  {key.ljust(width)} = {_hcl(entry)}" for key, entry in value.items()]
    return "\n".join(["```hcl", "{", *lines, "}", "```"])


def inputs(variables: dict[str, dict[str, Any]]) -> str:
    rows = ["| name | type | default | description |", "|---|---|---|---|"]
    below: list[str] = []
    for name, body in variables.items():
        if "default" not in body:
            default = "required"
        elif _is_large(body["default"]):
            default = "see below"
            below += ["", f"Default `{name}`:", "", _hcl_block(body["default"])]
        else:
            default = f"`{_hcl(body['default'])}`"
        kind = _type(body.get("type", "any"))
        description = _text(body.get("description", ""))
        rows.append(f"| `{name}` | `{kind}` | {default} | {description} |")
    return "\n".join(rows + below)


def outputs(blocks: dict[str, dict[str, Any]]) -> str:
    rows = ["| name | description |", "|---|---|"]
    for name, body in blocks.items():
        rows.append(f"| `{name}` | {_text(body.get('description', ''))} |")
    return "\n".join(rows)


def render(readme: str, parts: dict[str, str]) -> str:
    """`readme` with each generated part replaced; a missing marker is an error."""
    for name, text in parts.items():
        begin, end = f"<!-- BEGIN {MARKER}: {name} -->\n", f"<!-- END {MARKER}: {name} -->"
        start, stop = readme.find(begin), readme.find(end)
        if start < 0 or stop < start:
            raise SystemExit(f"no `{begin.strip()}` ... `{end}` in the README")
        readme = readme[: start + len(begin)] + text + "\n" + readme[stop:]
    return readme


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the README is stale")
    parser.add_argument("--terraform-dir", type=Path, default=TERRAFORM_DIR)
    parser.add_argument("--readme", type=Path, help="default: README.md in --terraform-dir")
    args = parser.parse_args(argv)
    readme_path: Path = args.readme or args.terraform_dir / "README.md"
    current = readme_path.read_text()
    wanted = render(
        current,
        {
            "inputs": inputs(load(args.terraform_dir / "variables.tf")),
            "outputs": outputs(load(args.terraform_dir / "outputs.tf")),
        },
    )
    if args.check:
        if wanted != current:
            print(f"{readme_path} is stale: run `make docs`", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        readme_path.write_text(wanted)
        print(f"wrote {readme_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
