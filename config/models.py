"""The job-config contract, version 1, as typed models (SPEC.md "Job-config contract").

Strict types and `extra="forbid"` at every level: a config that says `"shards": "2"` or has a typo
in a key is an error, not a guess. Rules that span fields (format inference, the SHA-256 pin,
output-not-inside-input, the deployment's queues) live in `JobConfig._cross_field_rules` so each
can name the exact field it is about.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config.batch_limits import MAX_INTEGER, tag_text_problem
from config.exceptions import Problem
from config.trust import denied_prefix
from config.uris import extension, parse_uri

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
DEFAULT_QUEUES = ("high", "normal", "low")

ModelFormat = Literal["skops", "joblib", "pickle"]
InputFormat = Literal["parquet", "csv"]

MODEL_EXTENSIONS: dict[str, ModelFormat] = {
    ".skops": "skops",
    ".joblib": "joblib",
    ".pkl": "pickle",
    ".pickle": "pickle",
}
INPUT_EXTENSIONS: dict[str, InputFormat] = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
# Formats that run code on load: refused unless the bytes match a pinned SHA-256.
UNSAFE_MODEL_FORMATS = frozenset({"joblib", "pickle"})


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def _valid_uri(value: str) -> str:
    parse_uri(value)  # raises ValueError with a user-facing message
    return value


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise ValueError(f"duplicate entry {value!r} at index {index}")
        seen.add(value)
    return values


Uri = Annotated[str, Field(min_length=1, max_length=2048), AfterValidator(_valid_uri)]
ColumnName = Annotated[str, Field(min_length=1, max_length=1024)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=NAME_PATTERN)]


class ModelSpec(_Strict):
    uri: Uri = Field(description="s3://bucket/key, file:// URI or local path of the model file.")
    format: ModelFormat | None = Field(
        default=None, description="Optional when the extension says it (.skops, .joblib, .pkl)."
    )
    sha256: str | None = Field(
        default=None,
        pattern=SHA256_PATTERN,
        description=(
            "SHA-256 of the model file; required for joblib and pickle, and whenever "
            "model.trusted_types is set."
        ),
    )
    trusted_types: list[Annotated[str, Field(min_length=1, max_length=512)]] | None = Field(
        default=None,
        description=(
            "Extra types a skops file may build or call while loading (never ones that reach "
            "the system: see docs/job.md); needs model.sha256."
        ),
    )

    @field_validator("uri")
    @classmethod
    def _is_a_file(cls, value: str) -> str:
        if value.endswith("/"):
            raise ValueError("must name a model file, not a prefix ending in '/'")
        return value


class InputSpec(_Strict):
    uri: Uri = Field(description="One file, or a prefix ending in '/' (every matching file below).")
    format: InputFormat | None = Field(
        default=None, description="Optional when the extension says."
    )
    features: (
        Annotated[
            list[ColumnName],
            Field(min_length=1, json_schema_extra={"uniqueItems": True}),
            AfterValidator(_unique),
        ]
        | None
    ) = Field(default=None, description="Feature columns; default: all but output.passthrough.")


class OutputSpec(_Strict):
    uri: Uri = Field(description="A prefix ending in '/'; must not equal or lie inside input.uri.")
    format: InputFormat = Field(default="parquet", description="Format of the output parts.")
    passthrough: Annotated[
        list[ColumnName], Field(json_schema_extra={"uniqueItems": True}), AfterValidator(_unique)
    ] = Field(
        default_factory=list, description="Input columns copied into the output (e.g. an id)."
    )
    predict: Literal["predict", "predict_proba"] = Field(
        default="predict",
        description="`prediction` column, or one `proba_<class>` column per class.",
    )
    overwrite: bool = Field(default=False, description="Replace a committed output.")
    max_bad_rows: int = Field(
        default=0,
        ge=0,
        le=MAX_INTEGER,
        description=(
            "Rows the model cannot score that the job may set aside under _errors/ instead of "
            "failing (whole job, all shards); 0: the first bad row fails the job."
        ),
    )
    max_bad_fraction: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description=(
            "Bad rows allowed as a fraction of the rows read (whole job); the job may set aside "
            "the larger of this and output.max_bad_rows."
        ),
    )

    @field_validator("uri")
    @classmethod
    def _is_a_prefix(cls, value: str) -> str:
        if not value.endswith("/"):
            raise ValueError("must be a prefix ending in '/'")
        return value


class Resources(_Strict):
    # Bounded by what Batch accepts on every platform; per-platform rules are the deployment's
    # (config.batch_limits.resource_problems).
    vcpus: float | None = Field(
        default=None, gt=0, le=MAX_INTEGER, description="vCPUs per container."
    )
    memory_mib: int | None = Field(
        default=None, ge=512, le=MAX_INTEGER, description="Memory per container, MiB."
    )


TagKey = Annotated[str, Field(min_length=1, max_length=128)]
TagValue = Annotated[str, Field(max_length=256)]


class JobConfig(_Strict):
    """A batchscore job config, version 1."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        title="batchscore job config",
        json_schema_extra={"$id": "https://batchscore.dev/schema/job-config/v1.json"},
    )

    schema_version: Literal[1] | None = Field(default=None, description="Contract version.")
    name: Name = Field(description="A name for people; letters, digits, '-' and '_'.")
    job_id: Name | None = Field(default=None, description="Idempotency key; derived if absent.")
    priority: str = Field(
        default="normal",
        min_length=1,
        max_length=64,
        pattern=NAME_PATTERN,
        description="A deployed queue's name (default deployment: high, normal, low).",
    )
    model: ModelSpec = Field(description="The scikit-learn model to score with.")
    input: InputSpec = Field(description="What to score.")
    output: OutputSpec = Field(description="Where predictions go.")
    shards: int = Field(
        default=1, ge=1, le=10000, description="Above 1: an array job, each child a disjoint part."
    )
    resources: Resources | None = Field(default=None, description="Overrides the job definition.")
    timeout_seconds: int | None = Field(
        default=None, ge=60, le=MAX_INTEGER, description="Per attempt."
    )
    attempts: int | None = Field(
        default=None, ge=1, le=10, description="Overrides the job definition's attempts."
    )
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict, max_length=50, description="Tags on the Batch job."
    )

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        for key, value in tags.items():
            if key.lower().startswith("aws:"):
                raise ValueError(f"tag key {key!r} uses the reserved 'aws:' prefix")
            for part, text in (("key", key), ("value", value)):
                problem = tag_text_problem(text)
                if problem:
                    raise ValueError(f"tag {part} {text!r} {problem}")
        return tags

    @model_validator(mode="after")
    def _cross_field_rules(self, info: ValidationInfo) -> JobConfig:
        problems = cross_field_problems(self, queues=_queues_from(info))
        if problems:
            # Not a ValueError subclass of pydantic's: it propagates unchanged with exact paths.
            raise CrossFieldError(problems)
        return self

    # Formats resolved from the extension when the config leaves them out.
    @property
    def model_format(self) -> ModelFormat:
        return self.model.format or MODEL_EXTENSIONS[extension(self.model.uri)]

    @property
    def input_format(self) -> InputFormat:
        return self.input.format or INPUT_EXTENSIONS[extension(self.input.uri)]


class CrossFieldError(Exception):
    """Rules spanning fields broke; the parser turns it into a ConfigError."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def _queues_from(info: ValidationInfo) -> tuple[str, ...]:
    context = info.context or {}
    return tuple(context.get("queues") or DEFAULT_QUEUES)


def trusted_type_problems(model: ModelSpec) -> list[Problem]:
    """Trusting a type lets a skops file call it while loading: never one that reaches the system
    (config.trust), and only for the file that was reviewed (a SHA-256 pin)."""
    problems: list[Problem] = []
    for index, name in enumerate(model.trusted_types or ()):
        prefix = denied_prefix(name)
        if prefix is not None:
            problems.append(
                Problem(
                    f"model.trusted_types[{index}]",
                    f"{name!r} can reach the system ({prefix}: commands, code, files or the "
                    "network) and is never trusted; a model that needs it must not be loaded",
                )
            )
    if model.trusted_types and not model.sha256:
        problems.append(
            Problem(
                "model.sha256",
                "required when model.trusted_types is set: the types were reviewed for one "
                "file, and only that file may load with them",
            )
        )
    return problems


def model_problems(model: ModelSpec) -> list[Problem]:
    """The rules on `model` alone (also the endpoint config's: config.endpoint)."""
    problems: list[Problem] = []
    model_format = model.format or MODEL_EXTENSIONS.get(extension(model.uri))
    if model_format is None:
        problems.append(
            Problem(
                "model.format",
                f"required: the extension of {model.uri!r} does not say "
                f"({', '.join(MODEL_EXTENSIONS)})",
            )
        )
    elif model_format in UNSAFE_MODEL_FORMATS and not model.sha256:
        problems.append(
            Problem("model.sha256", f"required when the model format is {model_format}")
        )
    if model.trusted_types and model_format in UNSAFE_MODEL_FORMATS:
        problems.append(
            Problem("model.trusted_types", f"applies to skops models only, not {model_format}")
        )
    return problems + trusted_type_problems(model)


def cross_field_problems(config: JobConfig, *, queues: tuple[str, ...]) -> list[Problem]:
    problems: list[Problem] = []
    if config.priority not in queues:
        problems.append(
            Problem(
                "priority", f"{config.priority!r} is not a deployed queue ({', '.join(queues)})"
            )
        )

    problems += model_problems(config.model)

    if config.input.format is None and config.input.uri.endswith("/"):
        problems.append(
            Problem("input.format", "required when input.uri is a prefix (no extension to read)")
        )
    elif config.input.format is None and extension(config.input.uri) not in INPUT_EXTENSIONS:
        problems.append(
            Problem(
                "input.format",
                f"required: the extension of {config.input.uri!r} does not say (.parquet, .csv)",
            )
        )

    input_location = parse_uri(config.input.uri)
    output_location = parse_uri(config.output.uri)
    if input_location.contains(output_location):
        problems.append(
            Problem("output.uri", f"must not equal or lie inside input.uri ({config.input.uri})")
        )
    return problems + passthrough_problems(config.output.passthrough)


def passthrough_problems(passthrough: list[str]) -> list[Problem]:
    """Overlap of features and passthrough is legal (an id may also be a feature), but the output
    reserves `prediction` and `proba_*` for the model's answers (also the endpoint's rule)."""
    return [
        Problem(
            f"output.passthrough[{index}]",
            f"{column!r} clashes with the output's prediction columns",
        )
        for index, column in enumerate(passthrough)
        if column == "prediction" or column.startswith("proba_")
    ]
