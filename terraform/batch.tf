# ---------------------------------------------------------------------------------------------
# Batch: compute environments
# ---------------------------------------------------------------------------------------------

locals {
  fargate = var.compute_type == "FARGATE"

  # Keyed like a queue's compute_order entries.
  compute_environments = {
    on_demand = {
      type                = local.fargate ? "FARGATE" : "EC2"
      max_vcpus           = var.on_demand_max_vcpus
      allocation_strategy = "BEST_FIT_PROGRESSIVE"
    }
    spot = {
      type                = local.fargate ? "FARGATE_SPOT" : "SPOT"
      max_vcpus           = var.spot_max_vcpus
      allocation_strategy = "SPOT_PRICE_CAPACITY_OPTIMIZED"
    }
  }

  security_group_ids = length(var.security_group_ids) > 0 ? var.security_group_ids : [aws_security_group.batch[0].id]
}

resource "aws_security_group" "batch" {
  #checkov:skip=CKV2_AWS_5:Attached to the compute environments through local.security_group_ids, which checkov cannot follow
  count = length(var.security_group_ids) > 0 ? 0 : 1

  name_prefix = "${var.name}-batch-"
  description = "batchscore jobs: no inbound, outbound HTTPS to AWS APIs and the model/data buckets"
  vpc_id      = var.vpc_id
  tags        = local.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "batch_https" {
  count = length(var.security_group_ids) > 0 ? 0 : 1

  security_group_id = aws_security_group.batch[0].id
  description       = "HTTPS to AWS APIs (S3, DynamoDB, ECR, CloudWatch Logs) and image registries"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = local.tags
}

# The instances' metadata service: IMDSv2 only (a session token, PUT first), and a PUT response
# hop limit of 1, so the token never reaches a job container behind Docker's bridge (one more
# hop): job code cannot read the instance role's credentials from IMDS. The ECS agent runs on the
# host network and is not affected; a job's own AWS credentials (the job role) come from the ECS
# credentials endpoint, not from IMDS. EC2 only: Batch takes no launch template on Fargate, whose
# tasks have no instance metadata service at all.
resource "aws_launch_template" "batch" {
  count = local.fargate ? 0 : 1

  name_prefix = "${var.name}-batch-"
  description = "batchscore Batch instances: IMDSv2 required, hop limit 1 (no instance credentials in containers)"
  # Batch copies the version it is given into its own launch template; the compute environments
  # name latest_version, so a change here updates them in place.
  update_default_version = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  tags = local.tags
}

resource "aws_batch_compute_environment" "this" {
  for_each = local.compute_environments

  # A prefix, not a name: changing compute resources replaces the environment, and
  # create_before_destroy needs the new one to coexist with the old under another name.
  compute_environment_name_prefix = "${var.name}-${replace(each.key, "_", "-")}-"
  type                            = "MANAGED"
  # null (the default): Batch uses its service-linked role (AWSServiceRoleForBatch), which AWS
  # creates on first use and which never needs an update from this stack.
  service_role = var.batch_service_role_arn

  compute_resources {
    type                = each.value.type
    max_vcpus           = each.value.max_vcpus
    min_vcpus           = local.fargate ? null : 0
    allocation_strategy = local.fargate ? null : each.value.allocation_strategy
    instance_type       = local.fargate ? null : var.instance_types
    instance_role       = local.fargate ? null : aws_iam_instance_profile.batch_instance[0].arn
    subnets             = var.subnet_ids
    security_group_ids  = local.security_group_ids

    dynamic "launch_template" {
      for_each = aws_launch_template.batch
      content {
        launch_template_id = launch_template.value.id
        version            = launch_template.value.latest_version
      }
    }

    # Tags on compute resources replace the environment when they change, so they stay fixed
    # here instead of following var.tags.
    tags = local.fargate ? null : { Name = "${var.name}-${each.key}" }
    # desired_vcpus is left out on purpose: Batch scales it, and setting it makes every plan
    # after a scale-out want to change it back.
  }

  tags = local.tags

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [aws_iam_role_policy_attachment.batch_instance]
}

# ---------------------------------------------------------------------------------------------
# Batch: job queues (one per priority name)
# ---------------------------------------------------------------------------------------------

locals {
  # The blocking reasons Batch lets a time-limit action match (AWS Batch User Guide, "Jobs stuck
  # in a RUNNABLE status"); config/deployment.py's RUNNABLE_BLOCKED_REASONS, in the same order.
  runnable_blocked_reasons = [
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
  ]
}

resource "aws_batch_job_queue" "this" {
  for_each = var.queues

  name     = "${var.name}-${each.key}"
  state    = "ENABLED"
  priority = each.value.priority

  dynamic "compute_environment_order" {
    for_each = each.value.compute_order
    content {
      order               = compute_environment_order.key
      compute_environment = aws_batch_compute_environment.this[compute_environment_order.value].arn
    }
  }

  # A job no compute environment can place would sit in RUNNABLE forever and block the queue.
  # `reason` is not free text: it is the blocking statusReason Batch must have given the job for
  # the action to apply, so one action per reason. Batch then fails the job with "Canceled by
  # JobStateTimeLimit action due to reason: <reason>", which the state-change handler records.
  dynamic "job_state_time_limit_action" {
    for_each = local.runnable_blocked_reasons
    content {
      action           = "CANCEL"
      state            = "RUNNABLE"
      max_time_seconds = each.value.runnable_timeout_seconds
      reason           = job_state_time_limit_action.value
    }
  }

  tags = merge(local.tags, { Name = "${var.name}-${each.key}" })
}

# ---------------------------------------------------------------------------------------------
# Batch: job definition
# ---------------------------------------------------------------------------------------------

locals {
  image = coalesce(var.image_uri, "${aws_ecr_repository.job.repository_url}:${var.image_tag}")

  # The private ECR repository the execution role must be allowed to pull from: the stack's, or
  # the one var.image_uri names (validated: a private ECR image or an ECR Public one, which is
  # pulled anonymously and needs no permission).
  image_ecr = var.image_uri == null ? null : try(regex(
    "^(?P<account>\\d{12})\\.dkr\\.ecr\\.(?P<region>[a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/(?P<repository>[^:@]+)",
    var.image_uri
  ), null)
  pull_repository_arns = (
    var.image_uri == null ? [aws_ecr_repository.job.arn] :
    local.image_ecr == null ? [] :
    ["arn:${local.partition}:ecr:${local.image_ecr.region}:${local.image_ecr.account}:repository/${local.image_ecr.repository}"]
  )

  # The same rules, in the same order, as config/retry.py's EVALUATE_ON_EXIT (a test compares
  # them). Batch takes the first match and retries an unmatched failure: the catch-all EXIT is last.
  retry_rules = [
    # EC2 Spot reclaims and lost hosts: "Host EC2 (instance i-...) terminated."
    { on_status_reason = "Host EC2*", on_exit_code = null, on_reason = null, action = "RETRY" },
    # Fargate Spot reclaims: "Your Spot Task was interrupted." (Host EC2* does not match it)
    { on_status_reason = "Your Spot Task was interrupted*", on_exit_code = null, on_reason = null, action = "RETRY" },
    { on_status_reason = null, on_exit_code = "3", on_reason = null, action = "RETRY" },
    { on_status_reason = null, on_exit_code = null, on_reason = "*", action = "EXIT" },
  ]

  job_environment = {
    BATCHSCORE_TABLE           = aws_dynamodb_table.jobs.name
    BATCHSCORE_ALLOWED_BUCKETS = join(",", local.allowed_buckets)
    BATCHSCORE_WRITE_BUCKETS   = join(",", local.write_buckets)
    AWS_DEFAULT_REGION         = local.region
  }
}

resource "aws_batch_job_definition" "this" {
  name                  = "${var.name}-score"
  type                  = "container"
  platform_capabilities = [local.fargate ? "FARGATE" : "EC2"]
  propagate_tags        = true

  # SubmitJob passes both (submitter/batch.py submit_request). config_sha256 binds the job to the
  # config submitted: the container refuses a record whose config has another digest, and this
  # default (not a digest) when a submission left it out.
  parameters = {
    config_sha256 = "unset"
  }

  container_properties = jsonencode(merge(
    {
      image = local.image
      # Batch mode: the job id and the config's digest come as parameters of SubmitJob.
      command    = ["python", "-m", "job", "run", "--job-id", "Ref::job_id", "--config-sha256", "Ref::config_sha256"]
      jobRoleArn = aws_iam_role.this["job"].arn
      # The execution role pulls the image and writes the logs.
      executionRoleArn = aws_iam_role.this["execution"].arn
      resourceRequirements = [
        { type = "VCPU", value = tostring(var.job_vcpus) },
        { type = "MEMORY", value = tostring(var.job_memory_mib) },
      ]
      environment = [for key, value in local.job_environment : { name = key, value = value }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.jobs.name
          awslogs-region        = local.region
          awslogs-stream-prefix = "score"
        }
      }
      readonlyRootFilesystem = false # scoring spills output parts to /tmp before upload
      privileged             = false

      # An init process as PID 1 (docker run --init) forwards SIGTERM to the job, which stops at
      # once with exit 3 (job/cli.py); Python as PID 1 would ignore it until Batch's SIGKILL.
      linuxParameters = { initProcessEnabled = true }
    },
    local.fargate ? {
      fargatePlatformConfiguration = { platformVersion = "LATEST" }
      # A task in a public subnet with no NAT needs a public IP to pull its image (var description).
      networkConfiguration = { assignPublicIp = var.assign_public_ip ? "ENABLED" : "DISABLED" }
    } : {}
  ))

  retry_strategy {
    attempts = var.job_attempts

    dynamic "evaluate_on_exit" {
      for_each = local.retry_rules
      content {
        on_status_reason = evaluate_on_exit.value.on_status_reason
        on_exit_code     = evaluate_on_exit.value.on_exit_code
        on_reason        = evaluate_on_exit.value.on_reason
        action           = evaluate_on_exit.value.action
      }
    }
  }

  timeout {
    attempt_duration_seconds = var.job_timeout_seconds
  }

  tags = local.tags
}

resource "aws_cloudwatch_log_group" "jobs" {
  #checkov:skip=CKV_AWS_158:Encrypted with CloudWatch Logs' own key; a CMK adds cost and a key policy to keep, and the logs hold no secrets
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 by default): scoring logs are for debugging, not audit
  name              = "/aws/batch/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

# ---------------------------------------------------------------------------------------------
# Batch: container image repository
# ---------------------------------------------------------------------------------------------

resource "aws_ecr_repository" "job" {
  name                 = "${var.name}-job"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_destroy

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
  }

  tags = local.tags
}

resource "aws_ecr_lifecycle_policy" "job" {
  repository = aws_ecr_repository.job.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the 20 newest images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 20 }
      action       = { type = "expire" }
    }]
  })
}
