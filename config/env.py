"""Environment variable names, defined once. Read them only at the edges (handlers, `main`)."""

# Deployment
QUEUES = "BATCHSCORE_QUEUES"  # JSON object {priority: queue name/ARN} or comma-separated names
TABLE_NAME = "BATCHSCORE_TABLE"
JOBS_BUCKET = "BATCHSCORE_JOBS_BUCKET"
JOB_DEFINITION = "BATCHSCORE_JOB_DEFINITION"
ALLOWED_BUCKETS = "BATCHSCORE_ALLOWED_BUCKETS"  # comma-separated bucket names
PLATFORM = "BATCHSCORE_PLATFORM"  # EC2 or FARGATE: which of Batch's resource rules apply
WRITE_BUCKETS = "BATCHSCORE_WRITE_BUCKETS"  # the allowed buckets the job may write (outputs)
RECORD_TTL_DAYS = "BATCHSCORE_RECORD_TTL_DAYS"
# How many tags the job definition adds to every job (propagate_tags: Batch fails a job whose own
# tags and the definition's exceed 50); unset: none
JOB_DEFINITION_TAG_COUNT = "BATCHSCORE_JOB_DEFINITION_TAG_COUNT"
LOG_GROUP = "BATCHSCORE_LOG_GROUP"  # the scoring containers' CloudWatch Logs group (CLI)
DATA_BUCKET = "BATCHSCORE_DATA_BUCKET"  # where `batchscore submit` puts local models and inputs
RESULTS_BUCKET = "BATCHSCORE_RESULTS_BUCKET"  # where it sends outputs that were local paths
TERRAFORM_DIR = "BATCHSCORE_TERRAFORM_DIR"  # where the CLI reads `terraform output -json`

# Emulator / custom endpoints (moto in tests and in the local stack)
AWS_ENDPOINT_URL = "AWS_ENDPOINT_URL"
AWS_ENDPOINT_URL_BATCH = "AWS_ENDPOINT_URL_BATCH"  # boto3's per-service override: the local Batch
LOCAL_STATE = "BATCHSCORE_LOCAL_STATE"  # where `batchscore local up` says how to reach it

# Set by AWS Batch inside the container
BATCH_JOB_ID = "AWS_BATCH_JOB_ID"
BATCH_JOB_ATTEMPT = "AWS_BATCH_JOB_ATTEMPT"
BATCH_ARRAY_INDEX = "AWS_BATCH_JOB_ARRAY_INDEX"
BATCH_QUEUE_NAME = "AWS_BATCH_JQ_NAME"
BATCH_COMPUTE_ENVIRONMENT = "AWS_BATCH_CE_NAME"

# Submitter (Lambda) tuning
SUBMIT_LEASE_SECONDS = "BATCHSCORE_SUBMIT_LEASE_SECONDS"  # > the ingest Lambda's timeout
REJECTED_PREFIX = (
    "BATCHSCORE_REJECTED_PREFIX"  # where rejected configs are copied (default rejected/)
)
# JSON merged over config/pricing.py's table (Terraform's `prices`); unset: the table as it is
PRICES = "BATCHSCORE_PRICES"

# The real-time endpoint (Lambda from the job image; terraform/realtime.tf)
ENDPOINT_CONFIG = "BATCHSCORE_ENDPOINT_CONFIG"  # the endpoint config's JSON text (config.endpoint)

# Notifications (submitter.notify): where "job finished" goes, and when drift and RUNNABLE count
NOTIFY_TOPIC_ARN = "BATCHSCORE_NOTIFY_TOPIC_ARN"  # the SNS topic; unset: no SNS message
EVENT_BUS = "BATCHSCORE_EVENT_BUS"  # EventBridge bus name or ARN; unset: no event
DRIFT_THRESHOLD = "BATCHSCORE_DRIFT_THRESHOLD"  # PSI above which predictions "drifted" (0.2)
RUNNABLE_ALERT_SECONDS = "BATCHSCORE_RUNNABLE_ALERT_SECONDS"  # "stuck in RUNNABLE" after this
