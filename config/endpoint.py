"""The real-time endpoint's config: which model answers, and what a request may hold.

Made of the job config's own parts (docs/endpoint.md): `model` is the job's `ModelSpec` (uri,
format, sha256, trusted types, checked by the same rules), `input.features` and
`output.passthrough` / `output.predict` keep the job config's paths, so an error from the
scoring core (`input.features: missing feature(s) ...`) names this file's field too. Only
`limits` is new: what one request may carry.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from config.models import (
    MODEL_EXTENSIONS,
    ColumnName,
    ModelFormat,
    ModelSpec,
    Name,
    _Strict,
    _unique,
    model_problems,
    passthrough_problems,
)
from config.uris import extension

# Lambda's synchronous invocation payload limit, 6 MB each way (request and response; AWS
# Lambda quotas). The request counts the whole event JSON, so a base64 body (Parquet) has about
# 4.5 MB of room; the default limits leave room for the event's envelope.
LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024
DEFAULT_MAX_REQUEST_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024 + 512 * 1024
DEFAULT_MAX_ROWS = 10_000

Columns = Annotated[
    list[ColumnName], Field(json_schema_extra={"uniqueItems": True}), AfterValidator(_unique)
]


class EndpointInput(_Strict):
    features: Annotated[Columns, Field(min_length=1)] | None = Field(
        default=None, description="Feature columns; default: every column not passed through."
    )


class EndpointOutput(_Strict):
    passthrough: Columns = Field(
        default_factory=list, description="Request columns copied into each answer (an id)."
    )
    predict: Literal["predict", "predict_proba"] = Field(
        default="predict",
        description="`prediction`, or one `proba_<class>` per class.",
    )


class Limits(_Strict):
    max_rows: int = Field(default=DEFAULT_MAX_ROWS, ge=1, le=1_000_000, description="Per request.")
    max_request_bytes: int = Field(
        default=DEFAULT_MAX_REQUEST_BYTES,
        ge=1024,
        le=LAMBDA_PAYLOAD_BYTES,
        description="Request body (decoded); beyond it: 413.",
    )
    max_response_bytes: int = Field(
        default=DEFAULT_MAX_RESPONSE_BYTES,
        ge=1024,
        le=LAMBDA_PAYLOAD_BYTES,
        description="Answer body; an answer beyond it is refused with 413 (send fewer rows).",
    )


class EndpointConfig(_Strict):
    """A batchscore endpoint config, version 1."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    schema_version: Literal[1] | None = Field(default=None, description="Contract version.")
    name: Name = Field(description="A name for people and logs.")
    model: ModelSpec = Field(description="The model, as in a job config.")
    input: EndpointInput = Field(default_factory=EndpointInput)
    output: EndpointOutput = Field(default_factory=EndpointOutput)
    limits: Limits = Field(default_factory=Limits)

    @model_validator(mode="after")
    def _model_rules(self) -> EndpointConfig:
        problems = model_problems(self.model) + passthrough_problems(self.output.passthrough)
        if problems:
            raise ValueError("; ".join(map(str, problems)))
        return self

    @property
    def model_format(self) -> ModelFormat:
        return self.model.format or MODEL_EXTENSIONS[extension(self.model.uri)]


def parse_endpoint_config(text: str | bytes, source: str = "endpoint config") -> EndpointConfig:
    """The config in `text`; ValueError naming the source and each field path otherwise."""
    from pydantic import ValidationError

    try:
        return EndpointConfig.model_validate_json(text)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            path = ".".join(str(p) for p in error["loc"]) or "(top level)"
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"{path}: {message}" if error["loc"] else message)
        raise ValueError(f"{source}: " + "; ".join(lines)) from None
