"""`batchscore local up --serve ENDPOINT.json`: the real-time endpoint beside the local stack, its
model read from the stack's S3 once uploaded there, stopped with the stack."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support import jobdata
from support.local_state import stack_client
from support.waiting import wait_until

from job.endpoint.events import build_app
from job.endpoint.server import function_url_event
from submitter.local.state import read_state

BATCHSCORE = [sys.executable, "-c", "from submitter.cli.entrypoint import app; app()"]
MODEL_KEY = "models/served.skops"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def endpoint_config(uri: str) -> dict:
    return {
        "name": "stack-served",
        "model": {"uri": uri},
        "output": {"passthrough": ["id"], "predict": "predict_proba"},
    }


def serve_options(config: Path, port: int) -> list[str]:
    return ["--serve", str(config), "--serve-port", str(port)]


def post(port: int, body: bytes) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    return response.status, answer


@pytest.mark.slow
def test_local_up_serves_the_stack_model_once_uploaded_and_stops_it_with_the_stack(
    tmp_path: Path,
):
    model = tmp_path / "model.skops"
    sha256 = jobdata.save_model(jobdata.fit(), model)
    config = tmp_path / "endpoint.json"
    config.write_text(json.dumps(endpoint_config(f"s3://batchscore-data/{MODEL_KEY}")))
    state_file = tmp_path / "local.json"
    port = free_port()
    log = tmp_path / "up.log"
    lines: list[str] = []
    with (
        log.open("w") as stderr,
        subprocess.Popen(
            [*BATCHSCORE, "local", "up", "--vcpus", "1", *serve_options(config, port)],
            env={**os.environ, "BATCHSCORE_LOCAL_STATE": str(state_file)},
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        ) as up,
    ):
        reader = threading.Thread(target=lambda: lines.extend(up.stdout or []), daemon=True)
        reader.start()
        try:
            answer = upload_then_post(up, lines, port, state_file, model, log)
        finally:
            up.send_signal(signal.SIGTERM)
            up.wait(timeout=60)
            reader.join(timeout=10)
    assert up.returncode == 0, log.read_text()
    assert lines[-1].strip() == "local stack stopped"
    assert answer["model_sha256"] == sha256
    body = json.dumps({"rows": jobdata.table(5).to_pylist()}).encode()
    # The same model, read from a local file by the handler in this process: the same answer.
    direct = build_app(json.dumps(endpoint_config(str(model))))(
        function_url_event("POST", "/", {"Content-Type": "application/json"}, body)
    )
    assert answer["predictions"] == json.loads(direct["body"])["predictions"]
    with pytest.raises(ConnectionRefusedError):  # the endpoint stopped with the stack
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def upload_then_post(
    up: subprocess.Popen[str], lines: list[str], port: int, state: Path, model: Path, log: Path
) -> dict:
    """Wait for the endpoint's waiting line, upload its model to the stack's S3, wait for it to
    serve, post 5 rows; the answer."""
    wait_until(
        lambda: any("endpoint stack-served" in x for x in lines) or up.poll() is not None, 60
    )
    waiting = [x for x in lines if "endpoint stack-served" in x]
    assert waiting, (lines, log.read_text())
    assert f"http://127.0.0.1:{port} once s3://batchscore-data/{MODEL_KEY}" in waiting[0]
    found = read_state(state)
    assert found is not None
    s3 = stack_client(found, "s3")
    s3.put_object(Bucket="batchscore-data", Key=MODEL_KEY, Body=model.read_bytes())
    wait_until(lambda: any(" on http://" in x for x in lines) or up.poll() is not None, 120)
    serving = f"endpoint stack-served: serving stack-served on http://127.0.0.1:{port}"
    assert any(x.startswith(serving) for x in lines), (lines, log.read_text())
    status, answer = post(port, json.dumps({"rows": jobdata.table(5).to_pylist()}).encode())
    assert status == 200, answer
    return answer


def test_local_up_refuses_an_endpoint_whose_model_is_not_in_the_stack_s3(tmp_path: Path):
    config = tmp_path / "endpoint.json"
    config.write_text(json.dumps(endpoint_config(str(tmp_path / "model.skops"))))
    state_file = tmp_path / "local.json"
    done = subprocess.run(
        [*BATCHSCORE, "local", "up", "--serve", str(config)],
        env={**os.environ, "BATCHSCORE_LOCAL_STATE": str(state_file)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().startswith(f"error: {config}: model.uri: ")
    assert "is not in the local stack's S3 (s3://batchscore-data/, s3://batchscore-jobs/)" in (
        done.stderr
    )
    assert len(done.stderr.strip().splitlines()) == 1
    assert not state_file.exists()  # nothing started
