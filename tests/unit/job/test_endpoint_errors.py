"""Every way a request can fail, with its status: 400 naming the column (as the batch job's error
names it), 413 beyond a limit, 415 for a body type it does not read, 405 for a method, and 500
when the model cannot load, its reason in the log and never in the answer."""

from __future__ import annotations

import base64
import io
import json
import logging
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LinearRegression
from support import jobdata
from support.model_shapes import FEATURES, SHAPES, customers

from config.endpoint import EndpointConfig
from job.endpoint.events import App, build_app
from job.endpoint.server import function_url_event
from job.endpoint.service import Endpoint


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.skops"
    jobdata.save_model(jobdata.fit(), path)
    return path


def app_for(model_path: Path, **document: Any) -> App:
    config = {
        "name": "errors",
        "model": {"uri": str(model_path)},
        "output": {"passthrough": ["id"]},
    }
    return App(Endpoint.load(EndpointConfig.model_validate(config | document)))


def call(
    app: App, body: bytes | str, content_type: str = "application/json", method: str = "POST"
) -> tuple[int, dict[str, Any]]:
    raw = body.encode() if isinstance(body, str) else body
    response = app(function_url_event(method, "/", {"Content-Type": content_type}, raw))
    return response["statusCode"], json.loads(response["body"])


def rows(count: int, **change: Any) -> str:
    records = [{"id": i, "f0": 0.1, "f1": 0.2, "f2": 0.3, "f3": 0.4} | change for i in range(count)]
    return json.dumps({"rows": records})


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (rows(2, f2=None), "f2"),  # a null a LogisticRegression refuses: NaN in f2
        (rows(2, f1="high"), "f1"),  # text in a number
        (json.dumps({"rows": [{"id": 1, "f0": 1, "f1": 2, "f2": 3}]}), "f3"),  # a missing feature
        (json.dumps({"rows": [{"f0": 1, "f1": 2, "f2": 3, "f3": 4}]}), "id"),  # missing passthrough
        (
            json.dumps(
                {
                    "rows": [
                        {"id": 1, "f0": 1, "f1": 2, "f2": 3, "f3": 4},
                        {"id": 2, "f0": "x", "f1": 2, "f2": 3, "f3": 4},
                    ]
                }
            ),
            "f0",
        ),  # mixed
    ],
)
def test_rows_that_cannot_be_scored_are_a_400_naming_the_column(model_file, body, named):
    status, answer = call(app_for(model_file), body)

    assert status == 400
    assert repr(named) in answer["error"] or f" {named}" in answer["error"], answer


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("{not json", "not JSON"),
        ('{"rows": {"id": 1}}', "rows"),
        ('{"rows": [1, 2]}', "rows[0]"),
        ('{"rows": [], "extra": 1}', "extra"),
        ('{"rows": []}', "no rows"),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_400_saying_what(model_file, body, says):
    status, answer = call(app_for(model_file), body)

    assert (status, says in answer["error"]) == (400, True), answer


def test_a_csv_body_with_text_in_a_number_is_a_400_naming_the_column_as_the_job_does(model_file):
    body = "id,f0,f1,f2,f3\n1,0.1,0.2,0.3,0.4\n2,0.1,0.2,0.3,0.4\n"
    status, answer = call(app_for(model_file), body + "3,0.1,many,0.3,0.4\n", "text/csv")

    assert status == 400
    assert "'f1'" in answer["error"]
    assert "/tmp" not in answer["error"]  # the temporary file's path is not the user's


def test_nulls_follow_the_batch_rules_a_model_that_imputes_scores_them(tmp_path):
    """The imputing pipeline fills the nulls the batch job gives it; a LogisticRegression on a
    matrix refuses them (above): the endpoint does exactly what the job does with each."""
    shape = SHAPES["imputing pipeline with nulls"]
    path = tmp_path / "imputing.skops"
    digest = jobdata.save_model(shape.fit(), path)
    app = app_for(
        path,
        model={"uri": str(path), "trusted_types": shape.trusted, "sha256": digest},
        output={"passthrough": ["id"], "predict": "predict_proba"},
    )
    record = json.loads(customers(1).to_json(orient="records"))[0] | {
        "plan": None,
        "monthly_spend": None,
    }

    status, answer = call(app, json.dumps({"rows": [record]}))

    assert status == 200, answer
    assert set(answer["predictions"][0]) == {"id", "proba_0", "proba_1"}
    assert FEATURES  # the shape's features: plan and the numbers, here null


def test_an_unsupported_content_type_is_a_415(model_file):
    status, answer = call(app_for(model_file), "<rows/>", "application/xml")

    assert status == 415
    assert "application/xml" in answer["error"]


def test_a_method_other_than_post_or_get_is_a_405(model_file):
    status, _ = call(app_for(model_file), "", method="DELETE")

    assert status == 405


def test_get_describes_the_endpoint_without_the_models_location(model_file):
    status, answer = call(app_for(model_file), "", method="GET")

    assert status == 200
    assert answer["columns"] == ["id", "prediction"]
    assert str(model_file) not in json.dumps(answer)


# --- limits ------------------------------------------------------------------------------------


def test_a_body_above_the_size_limit_is_a_413(model_file):
    app = app_for(model_file, limits={"max_request_bytes": 2048})
    body = rows(40)
    assert len(body) > 2048

    status, answer = call(app, body)

    assert status == 413
    assert "limits.max_request_bytes" in answer["error"]


def test_more_rows_than_the_limit_is_a_413_and_the_limit_itself_is_scored(model_file):
    app = app_for(model_file, limits={"max_rows": 5})

    assert call(app, rows(5))[0] == 200
    status, answer = call(app, rows(6))

    assert status == 413
    assert "limits.max_rows" in answer["error"]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_the_row_limit_holds_for_file_bodies_too(model_file, kind):
    table = jobdata.table(30)
    buffer = io.BytesIO()
    if kind == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, buffer)
    else:
        pq.write_table(table, buffer, row_group_size=7)
    content_type = "text/csv" if kind == "csv" else "application/vnd.apache.parquet"
    app = app_for(model_file, limits={"max_rows": 29})

    status, answer = call(app, buffer.getvalue(), content_type)

    assert status == 413, answer
    assert "limits.max_rows" in answer["error"]
    assert (
        call(app_for(model_file, limits={"max_rows": 30}), buffer.getvalue(), content_type)[0]
        == 200
    )


def test_an_answer_above_the_size_limit_is_a_413_not_a_truncated_answer(model_file):
    app = app_for(model_file, limits={"max_response_bytes": 1024})

    status, answer = call(app, rows(100))  # about 2,500 bytes of answers

    assert status == 413
    assert "limits.max_response_bytes" in answer["error"]


def test_the_limits_cannot_exceed_lambdas_6_mb_payload():
    with pytest.raises(ValueError, match="max_request_bytes"):
        EndpointConfig.model_validate(
            {"name": "x", "model": {"uri": "m.skops"}, "limits": {"max_request_bytes": 7 << 20}}
        )


# --- the model cannot load: 500, reason logged only ---------------------------------------------


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"uri": "{missing}"}, "No such file"),
        ({"uri": "{model}", "sha256": "0" * 64}, "model.sha256"),
        ({"uri": "{corrupt}"}, "not a readable skops file"),
    ],
)
def test_a_model_that_cannot_load_answers_500_and_logs_why(
    tmp_path, model_file, caplog, document, reason
):
    corrupt = tmp_path / "corrupt.skops"
    corrupt.write_bytes(b"not a zip")
    paths = {"missing": tmp_path / "gone.skops", "model": model_file, "corrupt": corrupt}
    model = {k: v.format(**paths) if k == "uri" else v for k, v in document.items()}
    caplog.set_level(logging.INFO, logger="job.endpoint")

    app = build_app(json.dumps({"name": "broken", "model": model}))
    status, answer = call(app, rows(1))

    assert app.endpoint is None
    assert status == 500
    assert reason not in json.dumps(answer)
    assert str(tmp_path) not in json.dumps(answer)
    assert any(reason in r.getMessage() + str(getattr(r, "reason", "")) for r in caplog.records)


def test_a_missing_or_invalid_config_answers_500_naming_the_field_in_the_log(caplog):
    caplog.set_level(logging.INFO, logger="job.endpoint")

    assert build_app(None).endpoint is None
    app = build_app(json.dumps({"name": "x", "model": {"uri": "m.pkl"}}))
    status, _ = call(app, rows(1))

    assert status == 500
    assert "model.sha256" in (app.failure or "")


def test_a_model_without_the_configured_method_cannot_serve(tmp_path):
    path = tmp_path / "regressor.skops"
    table = jobdata.table(50)
    frame = table.select(jobdata.FEATURES).to_pandas()
    jobdata.save_model(LinearRegression().fit(frame, table["f0"].to_numpy()), path)

    app = build_app(
        json.dumps(
            {"name": "x", "model": {"uri": str(path)}, "output": {"predict": "predict_proba"}}
        )
    )

    assert app.endpoint is None
    assert "predict_proba" in (app.failure or "")


def test_an_unexpected_error_is_a_500_without_its_detail(model_file, monkeypatch, caplog):
    app = app_for(model_file)
    assert app.endpoint is not None
    monkeypatch.setattr(app.endpoint, "score", lambda *_: 1 / 0)

    status, answer = call(app, rows(1))

    assert status == 500
    assert "division" not in answer["error"]
    assert any("ZeroDivisionError" in (r.exc_text or "") for r in caplog.records)


# --- the function URL event (payload format 2.0) ------------------------------------------------


def test_the_documented_function_url_event_is_scored(model_file):
    """tests/events/function-url-post.aws-docs.json: the AWS docs' example event (Lambda
    Developer Guide, "Invoking Lambda function URLs", request payload), its body our rows."""
    event = json.loads(
        (Path(__file__).parents[2] / "events" / "function-url-post.aws-docs.json").read_text()
    )

    response = app_for(model_file)(event)

    assert set(response) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert response["statusCode"] == 200, response
    assert response["isBase64Encoded"] is False
    assert response["headers"]["content-type"] == "application/json"
    assert json.loads(response["body"])["predictions"][0]["id"] == 7


def test_a_base64_body_is_decoded_as_a_function_url_sends_binary_content(model_file):
    buffer = io.BytesIO()
    pq.write_table(jobdata.table(3), buffer)
    event = function_url_event(
        "POST", "/", {"Content-Type": "application/vnd.apache.parquet"}, buffer.getvalue()
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == buffer.getvalue()

    response = app_for(model_file)(event)

    assert response["statusCode"] == 200, response
    assert [p["id"] for p in json.loads(response["body"])["predictions"]] == [0, 1, 2]


def test_a_body_marked_base64_that_is_not_is_a_400(model_file):
    event = function_url_event("POST", "/", {"Content-Type": "text/csv"}, b"")
    event |= {"body": "not base64!", "isBase64Encoded": True}

    assert app_for(model_file)(event)["statusCode"] == 400


def test_nan_in_an_answer_is_json_null_not_invalid_json(model_file):
    batch = pa.table({"id": [1.0, float("nan")], **{f: [0.1, 0.2] for f in jobdata.FEATURES}})
    body = json.dumps({"rows": batch.to_pylist()}).replace("NaN", "null")

    status, answer = call(app_for(model_file), body)

    assert status == 200
    assert answer["predictions"][1]["id"] is None


def test_a_model_that_loads_serves_and_its_load_is_logged(model_file, caplog):
    caplog.set_level(logging.INFO, logger="job.endpoint")

    app = build_app(json.dumps({"name": "fine", "model": {"uri": str(model_file)}}))

    assert app.endpoint is not None
    assert app.failure is None
    assert any(r.getMessage() == "model loaded" for r in caplog.records)
