"""docs/security.md's table stays true: each test it names exists, and every exploit test file is
in the table (a new exploit is documented; a removed one is noticed)."""

from __future__ import annotations

import re

from support.paths import ROOT

DOC = (ROOT / "docs" / "security.md").read_text()


def test_every_test_the_table_names_exists() -> None:
    for path in set(re.findall(r"`(tests/[\w/]+\.py)", DOC)):
        assert (ROOT / path).is_file(), path
    for path, name in re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", DOC):
        assert f"def {name}(" in (ROOT / path).read_text(), f"{path}::{name}"


def test_every_exploit_test_file_is_in_the_table() -> None:
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("test_exploit_*.py")}
    assert files
    missing = {f for f in files if f not in DOC}
    assert not missing, f"not in docs/security.md: {sorted(missing)}"
