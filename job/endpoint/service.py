"""The endpoint's model, loaded and checked once, and a request's rows scored by the batch job's
own core: `plan_scoring` matches the columns to the model and picks the matrix or DataFrame
path, `ScoringPlan.read` reads a CSV/Parquet body as the job reads its input, and the plan's
`Predictor` predicts (as `runner.score_sample` does for a dry run: one batch needs no threads).
A request's rows are one batch: a bad row fails the request (400), as a job without a bad-rows
budget fails, and nulls follow the job's rules (NaN in a matrix, missing in a DataFrame).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from config.endpoint import EndpointConfig
from job.endpoint import codec
from job.endpoint.bodies import JSON, body_format, check_rows, check_size, json_rows
from job.endpoint.errors import BadRequestError, TooLargeError
from job.exceptions import InputError
from job.frames import frame_plan
from job.inputs import plan_units, read_schema
from job.models import LoadedModel, load_configured_model, output_names
from job.runner import ScoringPlan, plan_scoring
from job.scoring import quiet_feature_names
from job.storage import InputFile

log = logging.getLogger("job.endpoint")
_PLANS_KEPT = 32  # plans cached by request schema: most clients always send the same columns
SOURCE = "the request body"


@dataclass(frozen=True)
class Answer:
    body: bytes  # JSON
    rows: int
    predict_seconds: float  # the model's own predict call(s), for the log and the benchmark


class Endpoint:
    """One model, ready to score requests."""

    def __init__(self, config: EndpointConfig, model: LoadedModel) -> None:
        self.config = config
        self.model = model
        # Checked now, not on the first request: a regressor asked for predict_proba cannot serve.
        self.names = output_names(model.estimator, config.output.predict)
        self._plans: dict[tuple[str, ...], ScoringPlan] = {}
        # A model fed a DataFrame imports pandas when first planned: now, in the init (the cold
        # start), not in the first request.
        frame_plan(model.estimator)

    @classmethod
    def load(cls, config: EndpointConfig) -> Endpoint:
        """Read the model (S3 or local) and load it as the job does: pin, then trusted types."""
        return cls(config, load_configured_model(config.model, config.model_format))

    def score(self, body: bytes, content_type: str | None) -> Answer:
        limits = self.config.limits
        check_size(body, limits.max_request_bytes)
        kind = body_format(content_type)
        batches = self._json_batches(body) if kind == JSON else self._file_batches(body, kind)
        started = time.perf_counter()
        try:
            with quiet_feature_names():
                answers = [plan.predictor(batch) for plan, batch in batches]
        except InputError as exc:  # what fails a job's batch: text in a number, a refused NaN
            raise BadRequestError(str(exc)) from None
        seconds = time.perf_counter() - started
        rows = sum(a.num_rows for a in answers)
        return Answer(self._render(answers, rows), rows, seconds)

    def plan(self, schema: pa.Schema) -> ScoringPlan:
        key = tuple(f"{f.name}\x00{f.type}" for f in schema)
        plan = self._plans.get(key)
        if plan is None:
            try:
                plan = plan_scoring(self.model.estimator, schema, self.config, SOURCE)
            except InputError as exc:
                raise BadRequestError(str(exc)) from None
            if len(self._plans) >= _PLANS_KEPT:
                self._plans.pop(next(iter(self._plans)))
            self._plans[key] = plan
        return plan

    def _json_batches(self, body: bytes) -> list[tuple[ScoringPlan, pa.RecordBatch]]:
        batch = json_rows(body, self.config.limits.max_rows)
        plan = self.plan(batch.schema)
        frame = plan.predictor.frame
        if frame is not None:  # what the job's reader does to every batch (`conform`)
            try:
                batch = frame.conform(batch)
            except InputError as exc:
                raise BadRequestError(f"{SOURCE}: {exc}") from None
        return [(plan, batch)]

    def _file_batches(self, body: bytes, kind: str) -> list[tuple[ScoringPlan, pa.RecordBatch]]:
        """CSV or Parquet through the job's reader: the body in a temporary file (Lambda's /tmp),
        read with the same column types, conversions and errors as a job's input file."""
        fs = pafs.LocalFileSystem()
        handle, path = tempfile.mkstemp(suffix=f".{kind}")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(body)
            try:
                plan = self.plan(read_schema(fs, path, kind))
                units = plan_units(fs, [InputFile(path, len(body))], kind)
                limit = self.config.limits.max_rows
                batches, rows = [], 0
                for batch in plan.read(fs, units, kind, batch_rows=limit + 1):
                    rows += batch.num_rows
                    if rows > limit:
                        check_rows(rows, limit)
                    batches.append((plan, batch))
            except InputError as exc:
                raise BadRequestError(str(exc).replace(path, SOURCE)) from None
        finally:
            os.unlink(path)
        check_rows(rows, limit)
        return batches

    def _render(self, answers: list[pa.RecordBatch], rows: int) -> bytes:
        records = [row for answer in answers for row in answer.to_pylist()]
        document = {"rows": rows, "model_sha256": self.model.sha256, "predictions": records}
        body = codec.dumps(document)  # NaN or inf (a passthrough, a model's answer): null
        limit = self.config.limits.max_response_bytes
        if len(body) > limit:
            raise TooLargeError(
                f"the answer for {rows:,} rows is {len(body):,} bytes, above the limit of "
                f"{limit:,} (limits.max_response_bytes): send fewer rows per request"
            )
        return body


def describe(endpoint: Endpoint) -> dict[str, Any]:
    """GET: what answers here (no model location: that stays in the log)."""
    return {
        "name": endpoint.config.name,
        "model_sha256": endpoint.model.sha256,
        "predict": endpoint.config.output.predict,
        "columns": [*endpoint.config.output.passthrough, *endpoint.names],
        "limits": endpoint.config.limits.model_dump(),
    }
