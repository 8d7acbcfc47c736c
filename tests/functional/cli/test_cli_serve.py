"""`batchscore serve`: the endpoint's handler behind HTTP on 127.0.0.1, run as a user runs it."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import jobdata
from support.paths import ROOT

from job.endpoint.events import build_app
from job.endpoint.server import function_url_event, serving

START_SECONDS = 120


@pytest.fixture
def endpoint_file(tmp_path: Path) -> Path:
    model = tmp_path / "model.skops"
    jobdata.save_model(jobdata.fit(), model)
    config = {
        "name": "served",
        "model": {"uri": str(model)},
        "output": {"passthrough": ["id"], "predict": "predict_proba"},
        "limits": {"max_request_bytes": 4096},
    }
    path = tmp_path / "endpoint.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def served(endpoint_file: Path, tmp_path: Path) -> Iterator[tuple[str, int]]:
    log = tmp_path / "serve.log"
    with (
        log.open("w") as stderr,
        subprocess.Popen(
            [sys.executable, "-m", "submitter.cli", "serve", str(endpoint_file), "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        ) as process,
    ):
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert " on http://127.0.0.1:" in line, (line, log.read_text())
            yield "127.0.0.1", int(line.split("127.0.0.1:")[1].split()[0])
        finally:
            process.terminate()
            process.wait(timeout=30)


def post(address: tuple[str, int], body: bytes, content_type: str) -> tuple[int, dict]:
    connection = http.client.HTTPConnection(*address, timeout=30)
    connection.request("POST", "/", body, {"Content-Type": content_type})
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    return response.status, answer


def test_serve_answers_what_the_handler_answers_for_the_same_event(served, endpoint_file):
    body = json.dumps({"rows": jobdata.table(5).to_pylist()}).encode()
    direct = build_app(endpoint_file.read_text())(
        function_url_event("POST", "/", {"Content-Type": "application/json"}, body)
    )

    status, answer = post(served, body, "application/json")

    assert status == 200
    assert answer["predictions"] == json.loads(direct["body"])["predictions"]
    assert [row["id"] for row in answer["predictions"]] == [0, 1, 2, 3, 4]


def test_serve_answers_errors_with_their_status(served):
    assert post(served, b'{"rows": [{"id": 1}]}', "application/json")[0] == 400
    assert post(served, b"x", "application/xml")[0] == 415
    status, answer = post(served, b"{" + b" " * 8000 + b"}", "application/json")
    assert status == 413
    assert "4,096" in answer["error"]


def test_serve_refuses_to_start_on_a_config_that_cannot_serve(tmp_path):
    path = tmp_path / "endpoint.json"
    path.write_text(json.dumps({"name": "x", "model": {"uri": "model.pkl"}}))

    result = subprocess.run(
        [sys.executable, "-m", "submitter.cli", "serve", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
        check=False,
    )

    assert result.returncode == 2
    assert "model.sha256" in result.stderr
    assert str(path) in result.stderr


def test_a_body_far_above_the_limit_is_refused_before_it_is_read(endpoint_file):
    """Content-Length says it all: the server answers 413 and closes, reading nothing."""
    app = build_app(endpoint_file.read_text())
    with serving(app) as url:
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.putrequest("POST", "/")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(50 * 1024 * 1024))
        connection.endheaders()  # and no body: a server that read it would wait here
        response = connection.getresponse()
        status, answer = response.status, json.loads(response.read())
        connection.close()

    assert status == 413
    assert "4,096" in answer["error"]
