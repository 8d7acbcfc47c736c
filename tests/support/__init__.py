"""Shared test support, imported as `support.<module>` (pyproject's pytest `pythonpath` puts
`tests/` on sys.path; nothing in tests/ edits sys.path itself).

- `paths`: where the repository's files are (root, tests/events, config/examples, terraform/).
- `names`: the AWS names the tests share (region, buckets, table, job definition, queues).
- `clock`, `waiting`: a clock moved by hand; polling until a condition holds.
- `events`, `job_configs`, `job_records`: Lambda payloads (samples, S3 notifications), submitter
  configs, job records.
- `aws_errors`: AWS failures for botocore hooks and stubs, and the crash of a killed Lambda.
- `lambda_modules`: a Lambda entry point imported anew, as on a cold start.
- `submitter_aws`: the submitter's work functions over in-process moto (`SubmitterAws`).
- `moto_server`: a moto server's S3 and DynamoDB for the job, and the process environment for it;
  `faulty_moto`: the same server failing chosen requests.
- `jobdata`: the job's data: tables, fitted models, configs, outputs (no pytest in it).
- `container_cloud`: `python -m job run` against the fault-injecting server.
- `local_jobs`: tiny Python scripts as local Batch jobs, an event recorder.
- `pipeline`: moto + the local Batch + the submitter, with at-least-once delivery in between.
- `terraform_hcl`, `terraform_stack`: the HCL read for contracts; the root config applied to moto.
"""
