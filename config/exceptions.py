"""Errors of the job-config contract.

Every problem names the field's path (`model.sha256`, `input.features[2]`) so a user can find it
without reading code; `(root)` stands for the document itself.
"""

from __future__ import annotations

from dataclasses import dataclass

ROOT_PATH = "(root)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config: where (a field path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigError(ValueError):
    """A job config broke the contract; `problems` lists every finding, each with its field path."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("ConfigError needs at least one problem")
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @property
    def first(self) -> Problem:
        return self.problems[0]


class DeploymentSettingError(Exception):
    """A deployment setting (an environment variable the Lambdas and the CLI read) is missing or
    malformed; the message names the variable."""
