# ---------------------------------------------------------------------------------------------
# Shared
# ---------------------------------------------------------------------------------------------

variable "name" {
  description = "Stack name: the prefix of every resource name (buckets add the account id)."
  type        = string
  default     = "batchscore"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name: 2-21 lowercase letters, digits or '-', starting with a letter (it ends up in bucket names)."
  }
}

variable "tags" {
  description = "Tags for every resource (merged into each resource's own tags)."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# Batch: compute environments and queues
# ---------------------------------------------------------------------------------------------

variable "compute_type" {
  description = "Where jobs run: EC2 (on-demand + Spot instances) or FARGATE (Fargate + Fargate Spot)."
  type        = string
  default     = "EC2"

  validation {
    condition     = contains(["EC2", "FARGATE"], var.compute_type)
    error_message = "compute_type must be EC2 or FARGATE."
  }
}

variable "subnet_ids" {
  description = "Subnets the compute environments launch into (they need a route to S3, DynamoDB, ECR and CloudWatch Logs)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "subnet_ids needs at least one subnet."
  }
}

variable "security_group_ids" {
  description = "Security groups of the instances or Fargate tasks; empty: the stack creates one with egress only (needs vpc_id)."
  type        = list(string)
  default     = []
}

variable "vpc_id" {
  description = "VPC of the subnets; used only to create the egress-only security group when security_group_ids is empty."
  type        = string
  default     = null
}

variable "assign_public_ip" {
  description = "FARGATE only: give each job's task a public IP. Set true in public subnets without a NAT gateway (a default VPC): there a task reaches ECR, S3, DynamoDB and CloudWatch Logs only through a public IP, and without one it cannot pull its image. Leave false in private subnets with a NAT gateway or VPC endpoints. Ignored for EC2 (instances follow their subnet's setting)."
  type        = bool
  default     = false
}

variable "batch_service_role_arn" {
  description = "Service role of the compute environments; null: Batch's service-linked role (AWSServiceRoleForBatch), which AWS creates on first use."
  type        = string
  default     = null
}

variable "instance_types" {
  description = "EC2 instance types (or families) the compute environments may launch; ignored for FARGATE."
  type        = list(string)
  default     = ["c6i", "m6i", "r6i"]
}

variable "on_demand_max_vcpus" {
  description = "Upper bound of the on-demand compute environment, in vCPUs."
  type        = number
  default     = 64
}

variable "spot_max_vcpus" {
  description = "Upper bound of the spot compute environment, in vCPUs."
  type        = number
  default     = 256
}

variable "queues" {
  description = <<-EOT
    Job queues keyed by the priority name a job config asks for. `priority`: Batch's scheduling
    priority (higher first); `compute_order`: the compute environments in the order Batch tries them
    ("on_demand", "spot"); `runnable_timeout_seconds`: a job that cannot be placed for this long is
    cancelled with a reason instead of waiting forever.
  EOT
  type = map(object({
    priority                 = number
    compute_order            = list(string)
    runnable_timeout_seconds = optional(number, 3600)
  }))
  default = {
    high   = { priority = 100, compute_order = ["on_demand", "spot"] }
    normal = { priority = 50, compute_order = ["spot", "on_demand"] }
    low    = { priority = 10, compute_order = ["spot"] }
  }

  validation {
    condition = alltrue([
      for queue in values(var.queues) :
      length(queue.compute_order) > 0 && alltrue([for ce in queue.compute_order : contains(["on_demand", "spot"], ce)])
    ])
    error_message = "Each queue's compute_order lists \"on_demand\" and/or \"spot\"."
  }

  validation {
    condition     = alltrue([for key in keys(var.queues) : can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$", key))])
    error_message = "Queue keys are priority names: letters, digits, '-' or '_' (a job config's `priority` names one)."
  }

  validation {
    condition     = alltrue([for queue in values(var.queues) : queue.runnable_timeout_seconds >= 600])
    error_message = "runnable_timeout_seconds must be at least 600 (Batch's minimum)."
  }
}

# ---------------------------------------------------------------------------------------------
# Batch: job definition
# ---------------------------------------------------------------------------------------------

variable "image_uri" {
  description = "Container image of the job, with a tag or digest; null: the stack's ECR repository at image_tag. A private ECR image (any account or region: the job execution role is allowed to pull from that repository; another account's repository policy must allow it too) or an ECR Public image (public.ecr.aws, pulled anonymously). Other registries are refused: the stack gives the execution role no credentials for them."
  type        = string
  default     = null

  validation {
    condition = var.image_uri == null || can(regex(
      "^(\\d{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?|public\\.ecr\\.aws)/[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$",
      coalesce(var.image_uri, "-")
    ))
    error_message = "image_uri must be an ECR image (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY or public.ecr.aws/...) with a :tag or @sha256: digest: the execution role can pull nothing else."
  }
}

variable "image_tag" {
  description = "Tag of the image in the stack's ECR repository (tags are immutable: publish a new tag per release)."
  type        = string
  default     = "0.1.0"
}

variable "job_vcpus" {
  description = "Default vCPUs of a job (a job config's resources.vcpus overrides it)."
  type        = number
  default     = 1
}

variable "job_memory_mib" {
  description = "Default memory of a job in MiB (a job config's resources.memory_mib overrides it)."
  type        = number
  default     = 2048

  validation {
    condition     = var.job_memory_mib >= 512
    error_message = "job_memory_mib must be at least 512."
  }
}

variable "job_timeout_seconds" {
  description = "Default limit of one attempt, in seconds (a job config's timeout_seconds overrides it)."
  type        = number
  default     = 3600

  validation {
    condition     = var.job_timeout_seconds >= 60
    error_message = "job_timeout_seconds must be at least 60 (Batch's minimum)."
  }
}

variable "job_attempts" {
  description = "Default attempts of a job, retries included (a job config's attempts overrides it)."
  type        = number
  default     = 3

  validation {
    condition     = var.job_attempts >= 1 && var.job_attempts <= 10
    error_message = "job_attempts must be within 1-10 (Batch's limits)."
  }
}

# ---------------------------------------------------------------------------------------------
# Storage and state
# ---------------------------------------------------------------------------------------------

variable "read_bucket_names" {
  description = "Existing buckets jobs may read models and inputs from, besides the stack's models bucket."
  type        = list(string)
  default     = []
}

variable "write_bucket_names" {
  description = "Existing buckets jobs may write output to, besides the stack's results bucket."
  type        = list(string)
  default     = []
}

variable "noncurrent_version_days" {
  description = "Days a replaced or deleted object version is kept in the stack's (versioned) buckets."
  type        = number
  default     = 30
}

variable "record_ttl_days" {
  description = "Days a job record stays in the table before DynamoDB's TTL removes it."
  type        = number
  default     = 90
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete non-empty buckets, the ECR repository and the table (tests, sandboxes)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------------------------

variable "submitter_zip" {
  description = "Path of the Lambda bundle; null: build/submitter.zip at the repository root."
  type        = string
  default     = null
}

variable "lambda_architecture" {
  description = "Instruction set of the Lambdas: x86_64 or arm64 (Graviton). null: what the bundle was built for (`make package ARCH=...` records it in build/submitter.json), x86_64 if nothing is recorded. A value that disagrees with the bundle stops the plan."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_architecture == null || contains(["x86_64", "arm64"], coalesce(var.lambda_architecture, "x86_64"))
    error_message = "lambda_architecture must be x86_64 or arm64 (Lambda's two architectures)."
  }
}

variable "lambda_runtime" {
  description = "Python runtime of the Lambdas."
  type        = string
  default     = "python3.12"
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of each Lambda; null: unreserved (the account pool)."
  type        = number
  default     = null
}

variable "reconcile_schedule" {
  description = "EventBridge schedule expression (e.g. `rate(15 minutes)`) on which the state Lambda compares unfinished job records with Batch (a lost state-change event); empty: no schedule, so nothing runs while the stack is idle."
  type        = string
  default     = ""

  validation {
    condition     = var.reconcile_schedule == "" || can(regex("^(rate|cron)\\(.+\\)$", var.reconcile_schedule))
    error_message = "reconcile_schedule must be empty or an EventBridge schedule expression: rate(...) or cron(...)."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the Lambdas' and jobs' logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "ingest_max_concurrency" {
  description = "Most concurrent ingest Lambdas the upload queue starts (its event source mapping's maximum_concurrency). Each submits about 4 jobs a second, and Batch accepts SubmitJob at 50 TPS per account: 10 leaves room for the CLI and other callers (docs/scale.md)."
  type        = number
  default     = 10

  validation {
    condition     = var.ingest_max_concurrency >= 2 && var.ingest_max_concurrency <= 1000 && floor(var.ingest_max_concurrency) == var.ingest_max_concurrency
    error_message = "ingest_max_concurrency must be a whole number from 2 to 1000 (Lambda's range for an SQS event source)."
  }
}

variable "ingest_batch_size" {
  description = "Uploads per ingest Lambda invocation from the upload queue (1-10: more needs a batching window, and a batch must finish inside the 60 s timeout)."
  type        = number
  default     = 10

  validation {
    condition     = var.ingest_batch_size >= 1 && var.ingest_batch_size <= 10 && floor(var.ingest_batch_size) == var.ingest_batch_size
    error_message = "ingest_batch_size must be a whole number from 1 to 10."
  }
}

variable "ingest_max_receives" {
  description = "Receives of an upload's message before the upload queue moves it to the dead-letter queue (its redrive policy's maxReceiveCount)."
  type        = number
  default     = 5

  validation {
    condition     = var.ingest_max_receives >= 1 && var.ingest_max_receives <= 1000 && floor(var.ingest_max_receives) == var.ingest_max_receives
    error_message = "ingest_max_receives must be a whole number from 1 to 1000 (SQS's range for maxReceiveCount)."
  }
}

# ---------------------------------------------------------------------------------------------
# Operations: cost, metrics, alarms, dashboard (issue 14, branch ops-cost)
# ---------------------------------------------------------------------------------------------

variable "prices" {
  description = "JSON merged over the job-cost price table in config/pricing.py (its keys: fargate, fargate_spot, ec2_vcpu_hour, ec2_spot_ratio, ...), e.g. your region's or your discount's rates; empty: the table as it is."
  type        = string
  default     = ""

  validation {
    condition     = var.prices == "" || can(keys(jsondecode(var.prices)))
    error_message = "prices must be empty or a JSON object."
  }
}

variable "alarms_enabled" {
  description = "Create CloudWatch alarms (dead letters, FAILED jobs, jobs queued too long) that notify the notifications topic; off: none exist and nothing is billed."
  type        = bool
  default     = false
}

variable "alarm_failed_jobs" {
  description = "The FAILED-jobs alarm of a queue goes off when this many of its jobs fail within alarm_period_seconds."
  type        = number
  default     = 1

  validation {
    condition     = var.alarm_failed_jobs >= 1
    error_message = "alarm_failed_jobs must be at least 1."
  }
}

variable "alarm_queued_seconds" {
  description = "The queued-too-long alarm of a queue goes off when a job of it waited longer than this between submission and start (reported when the job finishes)."
  type        = number
  default     = 3600

  validation {
    condition     = var.alarm_queued_seconds >= 60
    error_message = "alarm_queued_seconds must be at least 60."
  }
}

variable "alarm_period_seconds" {
  description = "The period the alarms evaluate (CloudWatch: 10, 30 or a multiple of 60)."
  type        = number
  default     = 300

  validation {
    condition     = contains([10, 30], var.alarm_period_seconds) || (var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0)
    error_message = "alarm_period_seconds must be 10, 30 or a multiple of 60."
  }
}

variable "dashboard_enabled" {
  description = "Create a CloudWatch dashboard of the jobs' metrics (finished by status, cost, duration, rows, time queued, dead letters); off: none exists."
  type        = bool
  default     = false
}

# --- Real-time endpoint (realtime.tf; docs/endpoint.md) ---------------------------------------

variable "enable_realtime" {
  description = "Deploy the real-time endpoint: a Lambda from the job's image (target `endpoint`) behind a function URL with IAM auth, serving realtime_endpoint's model."
  type        = bool
  default     = false
}

variable "realtime_endpoint" {
  description = "The endpoint config (config/endpoint.py, docs/endpoint.md): the model as in a job config (an s3:// uri, format, sha256, trusted_types), input.features, output.passthrough and output.predict, limits. Required when enable_realtime."
  type = object({
    name = optional(string, "realtime")
    model = object({
      uri           = string
      format        = optional(string)
      sha256        = optional(string)
      trusted_types = optional(list(string))
    })
    features    = optional(list(string))
    passthrough = optional(list(string), [])
    predict     = optional(string, "predict")
    max_rows    = optional(number, 10000)
  })
  default = null

  validation {
    condition     = !var.enable_realtime || var.realtime_endpoint != null
    error_message = "enable_realtime needs realtime_endpoint: at least { model = { uri = \"s3://...\" } }."
  }

  validation {
    condition     = var.realtime_endpoint == null || can(regex("^s3://[^/]+/.+[^/]$", var.realtime_endpoint.model.uri))
    error_message = "realtime_endpoint.model.uri must be an s3:// URI of a model file (the Lambda reads it at init)."
  }
}

variable "realtime_image_tag" {
  description = "Tag of the endpoint image (job/Dockerfile, `--target endpoint`) in the stack's ECR repository; null: \"<image_tag>-endpoint\"."
  type        = string
  default     = null
}

variable "realtime_memory_mib" {
  description = "Memory of the endpoint Lambda (MiB); Lambda gives CPU in proportion (1,769 MiB = one vCPU)."
  type        = number
  default     = 2048

  validation {
    condition     = var.realtime_memory_mib >= 512 && var.realtime_memory_mib <= 10240
    error_message = "realtime_memory_mib must be 512-10240 (the scoring stack needs more than Lambda's 128 MiB minimum)."
  }
}

variable "realtime_reserved_concurrency" {
  description = "Reserved concurrency of the endpoint Lambda: at most this many requests at once (each a model in memory), the rest throttled (429)."
  type        = number
  default     = 5

  validation {
    condition     = var.realtime_reserved_concurrency >= 1
    error_message = "realtime_reserved_concurrency must be at least 1 (0 would refuse every request)."
  }
}

variable "realtime_timeout_seconds" {
  description = "Timeout of one endpoint request (seconds). Init (imports + model load) has its own 10 s limit for on-demand functions."
  type        = number
  default     = 30

  validation {
    condition     = var.realtime_timeout_seconds >= 1 && var.realtime_timeout_seconds <= 900
    error_message = "realtime_timeout_seconds must be 1-900 (Lambda's range)."
  }
}

variable "drift_threshold" {
  description = "Population stability index of a job's predictions against the last successful run of the same name above which its notification says they drifted (0.2: the usual rule of thumb for a significant shift)."
  type        = number
  default     = 0.2

  validation {
    condition     = var.drift_threshold > 0
    error_message = "drift_threshold must be above 0."
  }
}

variable "runnable_alert_minutes" {
  description = "Minutes a job may sit in RUNNABLE before it is announced as stuck (once), by the state Lambda's scheduled run (reconcile_schedule must be set)."
  type        = number
  default     = 60

  validation {
    condition     = var.runnable_alert_minutes >= 1
    error_message = "runnable_alert_minutes must be at least 1."
  }
}
