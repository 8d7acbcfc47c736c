"""The real-time endpoint: a few rows in, their predictions out, through the batch job's own
scoring core (docs/endpoint.md).

- `service`: the model loaded and checked once, a request's rows scored as the job scores them;
- `bodies`: a request body (JSON records, CSV, Parquet) as an Arrow batch, within the limits;
- `events`: the Lambda function URL event (payload format 2.0) in, its response out;
- `handler`: the Lambda entry point (the image's `endpoint` target);
- `server`: the same handler behind a small HTTP server on 127.0.0.1 (`batchscore serve`).
"""
