"""The local Batch executor: priority, capacity, retry strategy, timeouts, array jobs, events.

Jobs are tiny `python -c` scripts, so none of this depends on the `job` package.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from support.local_jobs import GATED, script, status_of
from support.waiting import wait_until

from config.retry import retry_strategy
from submitter.local import image
from submitter.local.jobs import TIMED_OUT, JobDefinition, host_terminated

EXIT_WITH_ARG = "import sys; sys.exit(int(sys.argv[1]))"
TRANSIENT_THEN_OK = (
    "import os, sys; sys.exit(3 if os.environ['AWS_BATCH_JOB_ATTEMPT'] == '1' else 0)"
)
RUN_OFTEN = retry_strategy(3)


def submit(batch, definition="job", queue="normal", **options):
    return batch.submit_job(jobName="test", jobQueue=queue, jobDefinition=definition, **options)[
        "jobId"
    ]


def codes(detail):
    return [attempt["container"].get("exitCode") for attempt in detail["attempts"]]


# -- scheduling --------------------------------------------------------------------------------


def test_higher_priority_queue_starts_first_once_capacity_frees(make_batch, events, gate):
    # GIVEN one vCPU, taken by a gated job
    batch = make_batch(script("gated", GATED, args=[str(gate)]), max_vcpus=1)
    blocker = submit(batch, "gated", "low")
    wait_until(lambda: status_of(batch, blocker) == "RUNNING")
    # WHEN jobs arrive low, normal, high, high and the capacity frees
    low = submit(batch, "gated", "low")
    normal = submit(batch, "gated", "normal")
    high1 = submit(batch, "gated", "high")
    high2 = submit(batch, "gated", "high")
    waiting = [low, normal, high1, high2]
    wait_until(lambda: all(status_of(batch, j) == "RUNNABLE" for j in waiting))
    gate.touch()
    batch.wait([blocker, *waiting], timeout=10)
    # THEN the high queue goes first (FIFO within it), then normal, then low
    assert events.started() == [blocker, high1, high2, normal, low]


def test_jobs_fill_the_vcpu_capacity_and_no_more(make_batch, gate):
    batch = make_batch(script("gated", GATED, args=[str(gate)]), max_vcpus=2)
    ids = [submit(batch, "gated") for _ in range(3)]
    wait_until(
        lambda: sorted(status_of(batch, j) for j in ids) == ["RUNNABLE", "RUNNING", "RUNNING"]
    )
    gate.touch()
    details = batch.wait(ids, timeout=10)
    assert [d["status"] for d in details] == ["SUCCEEDED"] * 3


def test_a_job_larger_than_the_capacity_stays_runnable(make_batch):
    batch = make_batch(script("small", "pass"), max_vcpus=1)
    big = submit(
        batch,
        "small",
        containerOverrides={"resourceRequirements": [{"type": "VCPU", "value": "4"}]},
    )
    small = submit(batch, "small")
    batch.wait([small], timeout=10)
    assert status_of(batch, big) == "RUNNABLE"


# -- retry strategy ----------------------------------------------------------------------------


def test_transient_exit_is_retried_and_the_retry_succeeds(make_batch):
    batch = make_batch(script("flaky", TRANSIENT_THEN_OK, retry_strategy=RUN_OFTEN))
    (detail,) = batch.wait([submit(batch, "flaky")], timeout=10)
    assert detail["status"] == "SUCCEEDED"
    assert codes(detail) == [3, 0]


def test_permanent_exit_is_not_retried(make_batch):
    batch = make_batch(script("bad", EXIT_WITH_ARG, args=["2"], retry_strategy=RUN_OFTEN))
    (detail,) = batch.wait([submit(batch, "bad")], timeout=10)
    assert detail["status"] == "FAILED"
    assert codes(detail) == [2]
    assert detail["statusReason"] == "Essential container in task exited"


def test_the_catch_all_exits_on_an_unlisted_exit_code(make_batch):
    batch = make_batch(script("bad", EXIT_WITH_ARG, args=["1"], retry_strategy=RUN_OFTEN))
    (detail,) = batch.wait([submit(batch, "bad")], timeout=10)
    assert codes(detail) == [1]


def test_an_unmatched_failure_is_retried_until_attempts_run_out(make_batch):
    only_permanent = {"attempts": 3, "evaluateOnExit": [{"onExitCode": "2", "action": "EXIT"}]}
    batch = make_batch(script("bad", EXIT_WITH_ARG, args=["1"], retry_strategy=only_permanent))
    (detail,) = batch.wait([submit(batch, "bad")], timeout=10)
    assert detail["status"] == "FAILED"
    assert codes(detail) == [1, 1, 1]


def test_submit_time_retry_strategy_replaces_the_definitions(make_batch):
    batch = make_batch(script("flaky", TRANSIENT_THEN_OK, retry_strategy=RUN_OFTEN))
    (detail,) = batch.wait([submit(batch, "flaky", retryStrategy={"attempts": 1})], timeout=10)
    assert detail["status"] == "FAILED"
    assert codes(detail) == [3]


def test_spot_reclaim_matches_on_status_reason_and_is_retried(make_batch):
    code = "import os, time\nif os.environ['AWS_BATCH_JOB_ATTEMPT'] == '1':\n    time.sleep(60)\n"
    batch = make_batch(script("spot", code, retry_strategy=RUN_OFTEN))
    job = submit(batch, "spot")
    wait_until(lambda: status_of(batch, job) == "RUNNING")
    batch.simulate_spot_reclaim(job)
    (detail,) = batch.wait([job], timeout=10)
    assert detail["status"] == "SUCCEEDED"
    first, second = detail["attempts"]
    assert first["statusReason"] == host_terminated() == "Host EC2 (instance i-local) terminated."
    assert "exitCode" not in first["container"]
    assert second["container"]["exitCode"] == 0


def test_an_injected_transient_exit_is_retried_into_the_real_command(make_batch):
    batch = make_batch(script("ok", "print('real run')", retry_strategy=RUN_OFTEN))
    batch.inject_exit("flaky-one")  # exit 3, once
    flaky = batch.submit_job(jobName="flaky-one", jobQueue="high", jobDefinition="ok")["jobId"]
    other = batch.submit_job(jobName="other", jobQueue="high", jobDefinition="ok")["jobId"]
    flaky_detail, other_detail = batch.wait([flaky, other], timeout=10)
    assert codes(flaky_detail) == [3, 0]
    assert codes(other_detail) == [0]
    first, second = (path.read_text() for path in batch.attempt_logs(flaky))
    assert first.startswith("batchscore local: injected exit 3")
    assert second.strip() == "real run"


# -- timeouts ----------------------------------------------------------------------------------


def test_timeout_sends_sigterm_and_is_not_retried(make_batch):
    batch = make_batch(script("slow", "import time; time.sleep(60)", retry_strategy=RUN_OFTEN))
    job = submit(batch, "slow", timeout={"attemptDurationSeconds": 0.3})
    (detail,) = batch.wait([job], timeout=10)
    assert detail["status"] == "FAILED"
    assert detail["statusReason"] == TIMED_OUT == "Job attempt duration exceeded timeout"
    assert codes(detail) == [128 + 15]


def test_timeout_sends_sigkill_when_sigterm_is_ignored(make_batch):
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    batch = make_batch(script("stubborn", stubborn, timeout_seconds=0.3))
    (detail,) = batch.wait([submit(batch, "stubborn")], timeout=10)
    assert codes(detail) == [128 + 9]
    assert detail["statusReason"] == TIMED_OUT
    attempt = detail["attempts"][0]
    assert attempt["stoppedAt"] - attempt["startedAt"] >= 500  # timeout + grace


# -- array jobs --------------------------------------------------------------------------------


def test_array_children_get_their_index_and_the_parent_follows(make_batch, events, tmp_path):
    code = (
        "import os, sys, pathlib\n"
        "index = os.environ['AWS_BATCH_JOB_ARRAY_INDEX']\n"
        "pathlib.Path(sys.argv[1], index).write_text(os.environ['AWS_BATCH_JOB_ID'])\n"
    )
    batch = make_batch(script("shards", code, args=[str(tmp_path)]))
    parent = submit(batch, "shards", arrayProperties={"size": 3})
    (detail,) = batch.wait([parent], timeout=10)
    assert detail["status"] == "SUCCEEDED"
    assert detail["arrayProperties"]["size"] == 3
    assert detail["arrayProperties"]["statusSummary"]["SUCCEEDED"] == 3
    for index in range(3):
        assert (tmp_path / str(index)).read_text() == f"{parent}:{index}"
    children = batch.list_jobs(arrayJobId=parent, jobStatus="SUCCEEDED")["jobSummaryList"]
    assert sorted(c["arrayProperties"]["index"] for c in children) == [0, 1, 2]
    child = batch.describe_jobs(jobs=[f"{parent}:1"])["jobs"][0]
    assert child["arrayProperties"] == {"index": 1}
    assert events.statuses(parent) == ["PENDING", "RUNNING", "SUCCEEDED"]
    child_events = [e["detail"] for e in events.events if e["detail"]["jobId"] == f"{parent}:2"]
    assert [d["status"] for d in child_events] == ["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
    assert {d["arrayProperties"]["index"] for d in child_events} == {2}


def test_array_parent_fails_when_a_child_fails_after_all_finish(make_batch):
    code = "import os, sys; sys.exit(2 if os.environ['AWS_BATCH_JOB_ARRAY_INDEX'] == '1' else 0)"
    batch = make_batch(script("shards", code, retry_strategy=RUN_OFTEN))
    parent = submit(batch, "shards", arrayProperties={"size": 3})
    (detail,) = batch.wait([parent], timeout=10)
    assert detail["status"] == "FAILED"
    assert detail["arrayProperties"]["statusSummary"]["SUCCEEDED"] == 2
    assert detail["arrayProperties"]["statusSummary"]["FAILED"] == 1


# -- parameters, overrides, environment --------------------------------------------------------


def test_parameters_substitute_ref_arguments(make_batch, tmp_path):
    out = tmp_path / "argv"
    code = "import sys, pathlib; pathlib.Path(sys.argv[1]).write_text(' '.join(sys.argv[2:]))"
    definition = script(
        "echo",
        code,
        args=[str(out), "Ref::job_id", "Ref::mode", "Ref::nope"],
        parameters={"mode": "default", "job_id": "unset"},
    )
    batch = make_batch(definition)
    job = submit(batch, "echo", parameters={"job_id": "j-42"})
    (detail,) = batch.wait([job], timeout=10)
    assert out.read_text() == "j-42 default Ref::nope"
    assert detail["parameters"] == {"mode": "default", "job_id": "j-42"}
    assert detail["container"]["command"][-3:] == ["j-42", "default", "Ref::nope"]


def test_the_process_gets_batch_variables_and_extra_env(make_batch, tmp_path):
    out = tmp_path / "env"
    names = [
        "AWS_BATCH_JOB_ID",
        "AWS_BATCH_JOB_ATTEMPT",
        "AWS_BATCH_JQ_NAME",
        "AWS_BATCH_CE_NAME",
        "BATCHSCORE_TABLE",
        "FROM_OVERRIDE",
    ]
    code = (
        "import os, sys, json, pathlib\n"
        f"names = {names!r}\n"
        "pathlib.Path(sys.argv[1]).write_text(json.dumps({n: os.environ.get(n) for n in names}))\n"
    )
    batch = make_batch(script("env", code, args=[str(out)]), env={"BATCHSCORE_TABLE": "t1"})
    job = submit(
        batch,
        "env",
        "high",
        containerOverrides={"environment": [{"name": "FROM_OVERRIDE", "value": "yes"}]},
    )
    batch.wait([job], timeout=10)
    seen = json.loads(out.read_text())
    assert seen == {
        "AWS_BATCH_JOB_ID": job,
        "AWS_BATCH_JOB_ATTEMPT": "1",
        "AWS_BATCH_JQ_NAME": "high",
        "AWS_BATCH_CE_NAME": "on-demand",
        "BATCHSCORE_TABLE": "t1",
        "FROM_OVERRIDE": "yes",
    }


def test_each_attempt_logs_to_its_own_file(make_batch):
    code = "import os; print('attempt', os.environ['AWS_BATCH_JOB_ATTEMPT'])\n" + TRANSIENT_THEN_OK
    batch = make_batch(script("flaky", code, retry_strategy=RUN_OFTEN))
    job = submit(batch, "flaky")
    (detail,) = batch.wait([job], timeout=10)
    logs = batch.attempt_logs(job)
    assert [path.read_text().strip() for path in logs] == ["attempt 1", "attempt 2"]
    streams = [a["container"]["logStreamName"] for a in detail["attempts"]]
    assert all(stream.startswith("flaky/default/") for stream in streams)


# -- events ------------------------------------------------------------------------------------


def test_events_follow_each_status_change_in_eventbridge_shape(make_batch, events):
    batch = make_batch(script("flaky", TRANSIENT_THEN_OK, retry_strategy=RUN_OFTEN))
    job = submit(batch, "flaky", "high", parameters={"job_id": "j-1"})
    batch.wait([job], timeout=10)
    assert events.statuses(job) == [
        "RUNNABLE",
        "STARTING",
        "RUNNING",
        "RUNNABLE",
        "STARTING",
        "RUNNING",
        "SUCCEEDED",
    ]
    last = events.events[-1]
    assert last["source"] == "aws.batch"
    assert last["detail-type"] == "Batch Job State Change"
    assert last["resources"] == [last["detail"]["jobArn"]]
    detail = last["detail"]
    assert detail["jobId"] == job
    assert detail["jobName"] == "test"
    assert detail["jobQueue"].endswith(":job-queue/high")
    assert detail["parameters"] == {"job_id": "j-1"}
    assert detail["statusReason"] == "Essential container in task exited"
    assert [a["container"]["exitCode"] for a in detail["attempts"]] == [3, 0]
    assert all(isinstance(detail[k], int) for k in ("createdAt", "startedAt", "stoppedAt"))
    # the RUNNING event lists only the attempts that ended before it
    running = [e["detail"] for e in events.events if e["detail"]["status"] == "RUNNING"]
    assert [len(d["attempts"]) for d in running] == [0, 1]


def test_a_failing_event_handler_does_not_stop_the_executor(make_batch, events):
    def explode(event):
        raise RuntimeError("handler bug")

    batch = make_batch(script("ok", "pass"))
    batch.on_event = explode
    (detail,) = batch.wait([submit(batch, "ok")], timeout=10)
    assert detail["status"] == "SUCCEEDED"


# -- terminate and cancel ----------------------------------------------------------------------


def test_terminate_stops_a_running_job_without_retry(make_batch, gate):
    batch = make_batch(script("gated", GATED, args=[str(gate)], retry_strategy=RUN_OFTEN))
    job = submit(batch, "gated")
    wait_until(lambda: status_of(batch, job) == "RUNNING")
    batch.terminate_job(jobId=job, reason="stopped by a test")
    (detail,) = batch.wait([job], timeout=10)
    assert detail["status"] == "FAILED"
    assert detail["statusReason"] == "stopped by a test"
    assert codes(detail) == [128 + 15]


def test_cancel_fails_a_waiting_job_and_leaves_a_running_one(make_batch, gate, events):
    batch = make_batch(script("gated", GATED, args=[str(gate)]), max_vcpus=1)
    running = submit(batch, "gated")
    wait_until(lambda: status_of(batch, running) == "RUNNING")
    waiting = submit(batch, "gated")
    wait_until(lambda: status_of(batch, waiting) == "RUNNABLE")
    batch.cancel_job(jobId=waiting, reason="not needed")
    batch.cancel_job(jobId=running, reason="too late")
    gate.touch()
    done, cancelled = batch.wait([running, waiting], timeout=10)
    assert done["status"] == "SUCCEEDED"
    assert cancelled["status"] == "FAILED"
    assert cancelled["statusReason"] == "not needed"
    assert cancelled["attempts"] == []
    assert events.statuses(waiting) == ["RUNNABLE", "FAILED"]


def test_terminating_an_array_parent_ends_every_child(make_batch, gate):
    batch = make_batch(script("gated", GATED, args=[str(gate)]), max_vcpus=1)
    parent = submit(batch, "gated", arrayProperties={"size": 3})
    wait_until(lambda: status_of(batch, f"{parent}:0") == "RUNNING")
    batch.terminate_job(jobId=parent, reason="operator")
    (detail,) = batch.wait([parent], timeout=10)
    assert detail["status"] == "FAILED"
    assert detail["statusReason"] == "operator"
    assert detail["arrayProperties"]["statusSummary"]["FAILED"] == 3


# -- the API's answers -------------------------------------------------------------------------


def test_list_jobs_follows_batch_rules(make_batch, gate):
    batch = make_batch(script("gated", GATED, args=[str(gate)]))
    first = batch.submit_job(jobName="score-a", jobQueue="low", jobDefinition="gated")["jobId"]
    second = batch.submit_job(jobName="other", jobQueue="low", jobDefinition="gated")["jobId"]
    wait_until(
        lambda: status_of(batch, second) == "RUNNING" and status_of(batch, first) == "RUNNING"
    )
    listed = batch.list_jobs(jobQueue="low")["jobSummaryList"]  # RUNNING by default
    assert [j["jobId"] for j in listed] == [second, first]  # newest first
    assert batch.list_jobs(jobQueue="low", jobStatus="SUCCEEDED")["jobSummaryList"] == []
    by_name = batch.list_jobs(
        jobQueue="low", jobStatus="SUCCEEDED", filters=[{"name": "JOB_NAME", "values": ["SCORE*"]}]
    )["jobSummaryList"]  # filters ignore jobStatus
    assert [j["jobId"] for j in by_name] == [first]
    page = batch.list_jobs(jobQueue="low", maxResults=1)
    assert len(page["jobSummaryList"]) == 1
    rest = batch.list_jobs(jobQueue="low", maxResults=1, nextToken=page["nextToken"])
    assert [j["jobId"] for j in rest["jobSummaryList"]] == [first]
    assert "nextToken" not in rest
    gate.touch()
    batch.wait([first, second], timeout=10)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"jobQueue": "nope"}, "job queue nope does not exist"),
        ({"jobDefinition": "nope"}, "job definition nope does not exist"),
        ({"jobName": "bad name"}, "jobName"),
        ({"arrayProperties": {"size": 1}}, "arrayProperties.size"),
        ({"retryStrategy": {"attempts": 11}}, "retryStrategy.attempts"),
        ({"dependsOn": [{"jobId": "x"}]}, "dependsOn"),
        (
            {"containerOverrides": {"environment": [{"name": "AWS_BATCH_X", "value": "1"}]}},
            "reserved",
        ),
    ],
)
def test_bad_submissions_are_client_exceptions(make_batch, options, message):
    batch = make_batch(script("ok", "pass"))
    arguments = {"jobName": "ok", "jobQueue": "high", "jobDefinition": "ok", **options}
    with pytest.raises(ClientError) as caught:
        batch.submit_job(**arguments)
    assert caught.value.response["Error"]["Code"] == "ClientException"
    assert message in caught.value.response["Error"]["Message"]
    assert isinstance(caught.value, batch.exceptions.ClientException)


def test_timeout_minimum_is_batchs_by_default(tmp_path):
    from submitter.local.executor import LocalBatch

    with LocalBatch(log_dir=tmp_path) as batch, pytest.raises(ClientError, match="at least 60"):
        batch.submit_job(
            jobName="j",
            jobQueue="high",
            jobDefinition="batchscore-job",
            timeout={"attemptDurationSeconds": 59},
        )


def test_queues_and_definitions_are_described(make_batch):
    batch = make_batch(script("ok", "pass"))
    queues = {q["jobQueueName"]: q for q in batch.describe_job_queues()["jobQueues"]}
    assert {name: q["priority"] for name, q in queues.items()} == {
        "high": 100,
        "normal": 50,
        "low": 10,
    }
    order = [
        ce["computeEnvironment"].rsplit("/", 1)[-1]
        for ce in queues["normal"]["computeEnvironmentOrder"]
    ]
    assert order == ["spot", "on-demand"]
    registered = batch.register_job_definition(
        jobDefinitionName="ok", type="container", containerProperties={"command": ["true"]}
    )
    assert registered["revision"] == 2
    described = batch.describe_job_definitions(jobDefinitionName="ok")["jobDefinitions"]
    assert [d["revision"] for d in described] == [1, 2]
    latest = batch.describe_job_definitions(jobDefinitions=["ok"])["jobDefinitions"][0]
    assert latest["containerProperties"]["command"] == ["true"]


def test_unknown_jobs_are_left_out_of_describe_and_refused_by_terminate(make_batch):
    batch = make_batch(script("ok", "pass"))
    assert batch.describe_jobs(jobs=["missing"])["jobs"] == []
    with pytest.raises(ClientError):
        batch.terminate_job(jobId="missing", reason="x")


def test_events_have_every_field_of_the_documented_example(make_batch, events):
    documented = json.loads(
        (
            Path(__file__).parents[2] / "events" / "batch-job-state-change-runnable.aws-docs.json"
        ).read_text()
    )
    batch = make_batch(script("ok", "pass", retry_strategy=RUN_OFTEN))
    job = submit(batch, "ok")
    batch.wait([job], timeout=10)
    (runnable,) = [e for e in events.events if e["detail"]["status"] == "RUNNABLE"]

    def same_shape(ours, theirs, path="event"):
        assert type(ours) is type(theirs), path
        if isinstance(theirs, dict):
            for key, value in theirs.items():
                if path == "event.detail.tags":
                    continue  # the job's own tags, whatever they are
                assert key in ours, f"{path}.{key}"
                same_shape(ours[key], value, f"{path}.{key}")

    same_shape(runnable, documented)


# -- the image ---------------------------------------------------------------------------------


def test_the_process_runs_the_images_entrypoint_workdir_and_env(make_batch, tmp_path):
    # GIVEN an image with an ENTRYPOINT, a WORKDIR mirroring the context, ENV and a user
    context = tmp_path / "context"
    (context / "job").mkdir(parents=True)
    out = tmp_path / "seen"
    report = (
        "import json, os, sys, pathlib\n"
        "names = ['GREETING', 'HOME', 'FROM_JOB']\n"
        "env = {n: os.environ.get(n) for n in names}\n"
        "seen = {'argv': sys.argv[1:], 'cwd': os.getcwd(), 'env': env}\n"
        f"pathlib.Path({str(out)!r}).write_text(json.dumps(seen))\n"
    )
    dockerfile = (
        "FROM python:3.11-slim\n"
        "ENV GREETING=hello FROM_JOB=image\n"
        "WORKDIR /app\n"
        "COPY job/ job/\n"
        "RUN useradd --uid 10001 --no-create-home scorer\n"
        "USER 10001\n"
        f"ENTRYPOINT {json.dumps(['python', '-c', report])}\n"
    )
    built = image.parse(dockerfile, context=context)
    definition = JobDefinition(
        name="img", command=("run", "Ref::job_id"), environment={"FROM_JOB": "definition"}
    )
    batch = make_batch(definition, image=built)

    # WHEN a job runs
    job = submit(batch, "img", parameters={"job_id": "j-7"})
    (detail,) = batch.wait([job], timeout=10)

    # THEN the process is ENTRYPOINT + command, in WORKDIR, with the image's ENV under the job's
    assert detail["status"] == "SUCCEEDED"
    seen = json.loads(out.read_text())
    assert seen["argv"] == ["run", "j-7"]
    assert seen["cwd"] == str(context)
    assert seen["env"] == {
        "GREETING": "hello",
        "HOME": image.MISSING_HOME,
        "FROM_JOB": "definition",
    }
    assert detail["container"]["command"] == ["run", "j-7"]  # Batch shows the command only
