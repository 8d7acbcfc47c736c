# The plan of the whole stack with a mock AWS provider: no account, no emulator, a few seconds.
# `command = apply` against the mock gives every ARN a value, so the wiring between resources
# (queues -> compute environments, IAM -> this stack's ARNs) can be compared.

mock_provider "aws" {
  source = "./tests/mocks" # mocks/aws.tfmock.hcl: the account, region, ARNs and overrides
}

variables {
  subnet_ids = ["subnet-0123456789abcdef0"]
  vpc_id     = "vpc-0123456789abcdef0"
}

run "queues_follow_priorities_and_compute_order" {
  command = apply

  assert {
    condition     = { for key, queue in aws_batch_job_queue.this : key => queue.priority } == { high = 100, normal = 50, low = 10 }
    error_message = "Default queues must be high=100, normal=50, low=10."
  }

  assert {
    condition = [for ce in aws_batch_job_queue.this["high"].compute_environment_order : ce.compute_environment] == [
      aws_batch_compute_environment.this["on_demand"].arn, aws_batch_compute_environment.this["spot"].arn,
    ]
    error_message = "high must try on-demand first, then spot."
  }

  assert {
    condition = [for ce in aws_batch_job_queue.this["normal"].compute_environment_order : ce.compute_environment] == [
      aws_batch_compute_environment.this["spot"].arn, aws_batch_compute_environment.this["on_demand"].arn,
    ]
    error_message = "normal must try spot first, then on-demand."
  }

  assert {
    condition     = [for ce in aws_batch_job_queue.this["low"].compute_environment_order : ce.compute_environment] == [aws_batch_compute_environment.this["spot"].arn]
    error_message = "low must run on spot only."
  }

  assert {
    condition     = [for ce in aws_batch_job_queue.this["high"].compute_environment_order : ce.order] == [0, 1]
    error_message = "compute_environment_order must number the environments from 0."
  }

  assert {
    condition = alltrue([
      for queue in aws_batch_job_queue.this :
      alltrue([for action in queue.job_state_time_limit_action : action.action == "CANCEL" && action.state == "RUNNABLE" && action.max_time_seconds == 3600])
    ])
    error_message = "Every queue must cancel jobs stuck in RUNNABLE after runnable_timeout_seconds (one hour by default)."
  }

  assert {
    condition = alltrue([
      for queue in aws_batch_job_queue.this :
      [for action in queue.job_state_time_limit_action : action.reason] == [
        "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
        "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
      ]
    ])
    error_message = "One time-limit action per blocking status reason Batch documents (the reason is what Batch matches, not free text)."
  }
}

run "compute_environments_update_in_place" {
  command = plan

  assert {
    condition     = aws_batch_compute_environment.this["spot"].compute_resources[0].allocation_strategy == "SPOT_PRICE_CAPACITY_OPTIMIZED"
    error_message = "Spot must use SPOT_PRICE_CAPACITY_OPTIMIZED (allows in-place updates, fewer interruptions)."
  }

  assert {
    condition     = aws_batch_compute_environment.this["on_demand"].compute_resources[0].allocation_strategy == "BEST_FIT_PROGRESSIVE"
    error_message = "On-demand must use BEST_FIT_PROGRESSIVE (allows in-place updates)."
  }

  assert {
    condition = alltrue([
      for ce in aws_batch_compute_environment.this :
      ce.compute_resources[0].min_vcpus == 0 && startswith(ce.compute_environment_name_prefix, "batchscore-")
    ])
    # (desired_vcpus is computed, so its absence shows in the source only: tests/functional/terraform)
    error_message = "Compute environments: min_vcpus 0, a name prefix instead of a name."
  }

  assert {
    condition     = [aws_batch_compute_environment.this["on_demand"].compute_resources[0].type, aws_batch_compute_environment.this["spot"].compute_resources[0].type] == ["EC2", "SPOT"]
    error_message = "EC2 by default: one on-demand (EC2) and one SPOT environment."
  }
}

run "ec2_instances_require_imdsv2_with_a_hop_limit_of_1" {
  command = apply

  assert {
    condition = (
      aws_launch_template.batch[0].metadata_options[0].http_endpoint == "enabled" &&
      aws_launch_template.batch[0].metadata_options[0].http_tokens == "required" &&
      aws_launch_template.batch[0].metadata_options[0].http_put_response_hop_limit == 1
    )
    error_message = "EC2 instances: IMDSv2 only, hop limit 1 (job containers must not reach the instance role's credentials)."
  }

  assert {
    condition = alltrue([
      for ce in aws_batch_compute_environment.this :
      ce.compute_resources[0].launch_template[0].launch_template_id == aws_launch_template.batch[0].id &&
      ce.compute_resources[0].launch_template[0].version == tostring(aws_launch_template.batch[0].latest_version)
    ])
    error_message = "Both EC2 compute environments (on-demand and spot) must launch from the IMDSv2 launch template, at its latest version."
  }
}

run "job_definition_runs_batch_mode_with_shared_retry_rules" {
  command = plan

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.container_properties).command == ["python", "-m", "job", "run", "--job-id", "Ref::job_id", "--config-sha256", "Ref::config_sha256"]
    error_message = "The job definition must run `python -m job run --job-id Ref::job_id --config-sha256 Ref::config_sha256`."
  }

  assert {
    condition     = aws_batch_job_definition.this.parameters["config_sha256"] == "unset"
    error_message = "The job definition declares the config_sha256 parameter, with a default the container refuses."
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.container_properties).linuxParameters.initProcessEnabled == true
    error_message = "The job needs an init process as PID 1 to receive SIGTERM (linuxParameters.initProcessEnabled)."
  }

  assert {
    # jsonencode: compares values, not HCL's list/tuple types.
    condition = jsonencode([
      for rule in aws_batch_job_definition.this.retry_strategy[0].evaluate_on_exit :
      [rule.on_status_reason, rule.on_exit_code, rule.on_reason, upper(rule.action)]
      ]) == jsonencode([
      ["Host EC2*", null, null, "RETRY"],
      ["Your Spot Task was interrupted*", null, null, "RETRY"],
      [null, "3", null, "RETRY"],
      [null, null, "*", "EXIT"],
    ])
    error_message = "Retry rules: EC2 and Fargate spot reclaims RETRY, exit 3 RETRY, catch-all EXIT last (config/retry.py)."
  }

  assert {
    condition     = aws_batch_job_definition.this.retry_strategy[0].attempts == 3 && aws_batch_job_definition.this.timeout[0].attempt_duration_seconds == 3600
    error_message = "Defaults: 3 attempts, a one-hour attempt timeout."
  }

  assert {
    condition = {
      for requirement in jsondecode(aws_batch_job_definition.this.container_properties).resourceRequirements :
      requirement.type => requirement.value
    } == { VCPU = "1", MEMORY = "2048" }
    error_message = "Default resources must come as resourceRequirements."
  }
}

run "only_job_configs_trigger_the_ingest_lambda" {
  command = apply

  override_resource {
    target = aws_sqs_queue.ingest
    values = { arn = "arn:aws:sqs:eu-west-1:123456789012:batchscore-ingest" }
  }

  assert {
    condition = (
      length(aws_s3_bucket_notification.jobs.lambda_function) == 0
      && length(aws_s3_bucket_notification.jobs.queue) == 1
      && aws_s3_bucket_notification.jobs.queue[0].filter_prefix == "jobs/"
      && aws_s3_bucket_notification.jobs.queue[0].filter_suffix == ".json"
      && aws_s3_bucket_notification.jobs.queue[0].queue_arn == aws_sqs_queue.ingest.arn
    )
    error_message = "Only jobs/*.json uploads may reach the ingest queue, and S3 must not invoke the Lambda directly."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.ingest.event_source_arn == aws_sqs_queue.ingest.arn
      && aws_lambda_event_source_mapping.ingest.function_name == aws_lambda_function.this["ingest"].arn
      && one(aws_lambda_event_source_mapping.ingest.scaling_config).maximum_concurrency == 10
      && aws_lambda_event_source_mapping.ingest.batch_size == 10
      && aws_lambda_event_source_mapping.ingest.function_response_types == toset(["ReportBatchItemFailures"])
    )
    error_message = "The ingest queue must feed the ingest Lambda in batches of 10, at most 10 at once, reporting failed items."
  }

  assert {
    # Lambda developer guide: visibility timeout >= 6 x the function's timeout.
    condition     = aws_sqs_queue.ingest.visibility_timeout_seconds >= 6 * aws_lambda_function.this["ingest"].timeout
    error_message = "The ingest queue's visibility timeout must be at least six times the ingest Lambda's timeout."
  }

  assert {
    condition = (
      jsondecode(aws_sqs_queue.ingest.redrive_policy).deadLetterTargetArn == aws_sqs_queue.dead_letters.arn
      && jsondecode(aws_sqs_queue.ingest.redrive_policy).maxReceiveCount == 5
      && aws_sqs_queue_policy.ingest.queue_url == aws_sqs_queue.ingest.id
    )
    error_message = "Uploads that keep failing must move to the dead-letter queue after 5 receives."
  }

  assert {
    condition     = aws_s3_bucket_notification.jobs.bucket == aws_s3_bucket.this["jobs"].id
    error_message = "The notification belongs on the jobs bucket."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.job_state.event_pattern).detail.jobQueue == [for queue in aws_batch_job_queue.this : queue.arn]
    error_message = "The state-change rule must match this stack's queues only."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.job_state.event_pattern).detail.status == ["RUNNING", "SUCCEEDED", "FAILED"] && length(jsondecode(aws_cloudwatch_event_rule.job_state.event_pattern).detail["$or"]) == 2
    error_message = "The state-change rule must pass only the statuses the handler acts on (job-state-events.json)."
  }
}

run "iam_is_scoped_to_this_stack" {
  command = apply

  assert {
    condition = toset(one([for s in data.aws_iam_policy_document.ingest.statement : s.resources if s.sid == "SubmitToThisStack"])) == toset(concat(
      [for queue in aws_batch_job_queue.this : queue.arn],
      [aws_batch_job_definition.this.arn_prefix, "${aws_batch_job_definition.this.arn_prefix}:*"],
    ))
    error_message = "The ingest Lambda may submit only to this stack's queues with this stack's job definition."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.ingest.statement : s.resources if s.sid == "ReadUploadedConfigs"]) == toset(["${aws_s3_bucket.this["jobs"].arn}/jobs/*"])
    error_message = "The ingest Lambda reads uploaded configs only."
  }

  assert {
    condition = alltrue([
      for doc in [data.aws_iam_policy_document.ingest, data.aws_iam_policy_document.state, data.aws_iam_policy_document.job] :
      alltrue([for s in doc.statement : !contains(tolist(s.resources), "*") || length(setsubtract(s.actions, ["batch:DescribeJobs", "batch:ListJobs", "batch:DescribeJobQueues", "batch:DescribeComputeEnvironments"])) == 0])
    ])
    error_message = "Neither the Lambdas nor the job may hold a \"*\" resource (but for Batch reads that have no resource type)."
  }

  assert {
    condition = alltrue([
      for doc in [data.aws_iam_policy_document.ingest, data.aws_iam_policy_document.state, data.aws_iam_policy_document.job, data.aws_iam_policy_document.job_execution] :
      alltrue([for s in doc.statement : alltrue([for action in s.actions : action != "*" && !endswith(action, ":*")])])
    ])
    error_message = "No wildcard actions."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.job.statement : s.resources if s.sid == "WriteOutput"]) == toset(["arn:aws:s3:::${aws_s3_bucket.this["results"].id}/*"])
    error_message = "By default jobs write to the results bucket only."
  }

  assert {
    condition = alltrue([
      for doc in [data.aws_iam_policy_document.ingest, data.aws_iam_policy_document.state, data.aws_iam_policy_document.job] :
      alltrue([for s in doc.statement : alltrue([for r in s.resources : r == aws_dynamodb_table.jobs.arn || startswith(r, "${aws_dynamodb_table.jobs.arn}/index/")]) if anytrue([for a in s.actions : startswith(a, "dynamodb:")])])
    ])
    error_message = "DynamoDB access is limited to the job table and its indexes."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.state.statement : s.resources if s.sid == "FindOpenRecords"]) == toset(["${aws_dynamodb_table.jobs.arn}/index/by-status"])
    error_message = "The state Lambda queries the by-status index only."
  }
}

run "reconcile_schedule_is_off_by_default" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_event_rule.reconcile) == 0 && length(aws_cloudwatch_event_target.reconcile) == 0 && length(aws_lambda_permission.state_from_schedule) == 0
    error_message = "No schedule unless reconcile_schedule asks for one: an idle stack costs nothing."
  }
}

run "reconcile_schedule_invokes_the_state_lambda" {
  command = apply

  variables {
    reconcile_schedule = "rate(15 minutes)"
  }

  assert {
    condition     = aws_cloudwatch_event_rule.reconcile[0].schedule_expression == "rate(15 minutes)"
    error_message = "The rule runs on the given schedule."
  }

  assert {
    condition     = aws_cloudwatch_event_target.reconcile[0].arn == aws_lambda_function.this["state"].arn && aws_lambda_permission.state_from_schedule[0].source_arn == aws_cloudwatch_event_rule.reconcile[0].arn
    error_message = "The schedule invokes the state Lambda, which allows that rule."
  }
}

run "reconcile_schedule_is_validated" {
  command = plan

  variables {
    reconcile_schedule = "every 15 minutes"
  }

  expect_failures = [var.reconcile_schedule]
}

run "fargate_variant" {
  command = plan

  variables {
    compute_type = "FARGATE"
  }

  assert {
    condition     = [aws_batch_compute_environment.this["on_demand"].compute_resources[0].type, aws_batch_compute_environment.this["spot"].compute_resources[0].type] == ["FARGATE", "FARGATE_SPOT"]
    error_message = "FARGATE: one Fargate and one Fargate Spot environment."
  }

  assert {
    condition     = aws_batch_job_definition.this.platform_capabilities == toset(["FARGATE"]) && length(aws_iam_instance_profile.batch_instance) == 0
    error_message = "FARGATE: Fargate job definition, no EC2 instance profile."
  }

  assert {
    condition = length(aws_launch_template.batch) == 0 && alltrue([
      for ce in aws_batch_compute_environment.this : length(ce.compute_resources[0].launch_template) == 0
    ])
    error_message = "FARGATE: no launch template (Batch refuses one on Fargate)."
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.container_properties).networkConfiguration.assignPublicIp == "DISABLED"
    error_message = "FARGATE: no public IP unless assign_public_ip asks for one (private subnets with NAT or endpoints)."
  }
}

run "fargate_in_public_subnets_gets_a_public_ip" {
  command = plan

  variables {
    compute_type     = "FARGATE"
    assign_public_ip = true
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.container_properties).networkConfiguration.assignPublicIp == "ENABLED"
    error_message = "assign_public_ip = true: Fargate tasks get a public IP (public subnets without NAT, e.g. a default VPC)."
  }
}

run "queue_compute_order_is_validated" {
  command = plan

  variables {
    queues = { urgent = { priority = 200, compute_order = ["on_demand", "gpu"] } }
  }

  expect_failures = [var.queues]
}

run "lambda_architecture_defaults_to_x86_64_without_a_recorded_build" {
  command = plan

  assert {
    condition     = alltrue([for fn in aws_lambda_function.this : fn.architectures == tolist(["x86_64"])])
    error_message = "A bundle with no build/submitter.json (a placeholder) deploys as x86_64."
  }
}

run "lambda_architecture_follows_the_bundle_make_package_built" {
  command = plan

  variables {
    # tests/fixtures/arm64/submitter.json: what `make package ARCH=arm64` writes beside the zip
    submitter_zip = "tests/fixtures/arm64/submitter.zip"
  }

  assert {
    condition     = alltrue([for fn in aws_lambda_function.this : fn.architectures == tolist(["arm64"])])
    error_message = "lambda_architecture unset: the Lambdas run on the architecture the zip was built for."
  }
}

run "lambda_architecture_that_disagrees_with_the_bundle_stops_the_plan" {
  command = plan

  variables {
    submitter_zip       = "tests/fixtures/arm64/submitter.zip"
    lambda_architecture = "x86_64"
  }

  expect_failures = [aws_lambda_function.this]
}

run "lambda_architecture_is_validated" {
  command = plan

  variables {
    lambda_architecture = "aarch64"
  }

  expect_failures = [var.lambda_architecture]
}

run "undelivered_events_go_to_the_dead_letter_queue" {
  command = apply

  variables {
    reconcile_schedule = "rate(15 minutes)"
  }

  assert {
    condition = alltrue([
      for target in [aws_cloudwatch_event_target.job_state, aws_cloudwatch_event_target.reconcile[0]] :
      length(target.dead_letter_config) == 1 && target.dead_letter_config[0].arn == aws_sqs_queue.dead_letters.arn
    ])
    error_message = "Every EventBridge target writes what it could not deliver to the dead-letter queue."
  }

  assert {
    condition     = aws_cloudwatch_event_target.job_state.retry_policy[0].maximum_event_age_in_seconds == 86400 && aws_cloudwatch_event_target.job_state.retry_policy[0].maximum_retry_attempts == 185
    error_message = "State changes: EventBridge's full retry window (24 h, 185 attempts): a late event is harmless."
  }

  assert {
    condition = (
      aws_sqs_queue_policy.dead_letters.queue_url == aws_sqs_queue.dead_letters.id
      && one(data.aws_iam_policy_document.dead_letters.statement[0].principals).identifiers == toset(["events.amazonaws.com"])
      && toset(one(data.aws_iam_policy_document.dead_letters.statement[0].condition).values) == toset([aws_cloudwatch_event_rule.job_state.arn, aws_cloudwatch_event_rule.reconcile[0].arn])
    )
    error_message = "EventBridge may send to the dead-letter queue for this stack's rules only."
  }
}

run "execution_role_pulls_the_stacks_repository_by_default" {
  command = apply

  assert {
    condition     = one([for s in data.aws_iam_policy_document.job_execution.statement : s.resources if s.sid == "PullJobImage"]) == toset([aws_ecr_repository.job.arn])
    error_message = "By default the execution role pulls from the stack's repository only."
  }
}

run "execution_role_pulls_the_ecr_repository_image_uri_names" {
  command = apply

  variables {
    image_uri = "210987654321.dkr.ecr.us-east-1.amazonaws.com/team/scorer@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.job_execution.statement : s.resources if s.sid == "PullJobImage"]) == toset(["arn:aws:ecr:us-east-1:210987654321:repository/team/scorer"])
    error_message = "An image_uri in another ECR repository: the execution role may pull from that repository (and only it)."
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.this.container_properties).image == "210987654321.dkr.ecr.us-east-1.amazonaws.com/team/scorer@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    error_message = "The job definition runs image_uri."
  }
}

run "an_ecr_public_image_needs_no_pull_permission" {
  command = apply

  variables {
    image_uri = "public.ecr.aws/acme/scorer:1.0"
  }

  assert {
    condition     = length([for s in data.aws_iam_policy_document.job_execution.statement : s if contains(["PullJobImage", "RegistryLogin"], s.sid)]) == 0
    error_message = "ECR Public is pulled anonymously: no ECR permission at all."
  }
}

run "an_image_the_execution_role_cannot_pull_is_refused" {
  command = plan

  variables {
    image_uri = "docker.io/library/python:3.12"
  }

  expect_failures = [var.image_uri]
}

run "an_image_without_a_tag_or_digest_is_refused" {
  command = plan

  variables {
    image_uri = "210987654321.dkr.ecr.us-east-1.amazonaws.com/team/scorer"
  }

  expect_failures = [var.image_uri]
}

# ---------------------------------------------------------------------------------------------
# The real-time endpoint (realtime.tf): off by default; on, a container-image Lambda behind a
# function URL with IAM auth, its role reading the model object only.
# ---------------------------------------------------------------------------------------------

run "realtime_is_off_by_default" {
  command = plan

  variables {
    realtime_endpoint = null
  }

  assert {
    condition     = length(aws_lambda_function.realtime) == 0 && length(aws_lambda_function_url.realtime) == 0
    error_message = "nothing real-time is deployed unless enable_realtime"
  }
  assert {
    condition     = length(aws_ecr_repository_policy.realtime) == 0 && length(aws_iam_role.realtime) == 0
    error_message = "no role and no repository policy for an endpoint that is off"
  }
}

run "realtime_function_url_uses_iam_auth" {
  command = apply

  variables {
    realtime_endpoint = {
      model       = { uri = "s3://models-bucket/models/churn.skops", sha256 = "abababababababababababababababababababababababababababababababab" }
      features    = ["plan", "tenure_months"]
      passthrough = ["customer_id"]
      predict     = "predict_proba"
    }
    enable_realtime               = true
    realtime_memory_mib           = 3008
    realtime_reserved_concurrency = 3
  }

  assert {
    condition     = aws_lambda_function_url.realtime["endpoint"].authorization_type == "AWS_IAM"
    error_message = "the function URL must require SigV4 (AWS_IAM), never NONE"
  }
  assert {
    condition     = aws_lambda_function_url.realtime["endpoint"].function_name == aws_lambda_function.realtime["endpoint"].function_name
    error_message = "the URL fronts the endpoint function"
  }
  assert {
    condition     = aws_lambda_function_url.realtime["endpoint"].invoke_mode == "BUFFERED"
    error_message = "one buffered answer (Lambda's 6 MB response limit applies)"
  }
  assert {
    condition     = aws_lambda_function.realtime["endpoint"].package_type == "Image"
    error_message = "the endpoint runs the job's container image"
  }
  assert {
    condition     = aws_lambda_function.realtime["endpoint"].image_uri == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/batchscore-job:0.1.0-endpoint"
    error_message = "the image comes from the job's ECR repository, tagged <image_tag>-endpoint"
  }
  assert {
    condition     = aws_lambda_function.realtime["endpoint"].memory_size == 3008 && aws_lambda_function.realtime["endpoint"].reserved_concurrent_executions == 3
    error_message = "memory and reserved concurrency come from their variables"
  }
  assert {
    condition = jsondecode(aws_lambda_function.realtime["endpoint"].environment[0].variables["BATCHSCORE_ENDPOINT_CONFIG"]) == {
      name   = "realtime"
      model  = { uri = "s3://models-bucket/models/churn.skops", sha256 = "abababababababababababababababababababababababababababababababab" }
      input  = { features = ["plan", "tenure_months"] }
      output = { passthrough = ["customer_id"], predict = "predict_proba" }
      limits = { max_rows = 10000 }
    }
    error_message = "the handler's config is the endpoint config, unset fields left out"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.realtime["endpoint"].statement : toset(s.resources) if contains(s.actions, "s3:GetObject")] == [toset(["arn:aws:s3:::models-bucket/models/churn.skops"])]
    error_message = "the role reads the model object and nothing else"
  }
  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.realtime["endpoint"].statement : s.actions])) == toset(["s3:GetObject", "logs:CreateLogStream", "logs:PutLogEvents"])
    error_message = "no action beyond reading the model and writing the logs"
  }
  assert {
    condition     = output.realtime_function_url == aws_lambda_function_url.realtime["endpoint"].function_url
    error_message = "the URL is an output"
  }
}

run "realtime_needs_an_endpoint_config" {
  command = plan

  variables {
    enable_realtime   = true
    realtime_endpoint = null
  }

  expect_failures = [var.realtime_endpoint]
}

run "realtime_model_must_be_on_s3" {
  command = plan

  variables {
    realtime_endpoint = { model = { uri = "/home/me/model.skops" } }
  }

  expect_failures = [var.realtime_endpoint]
}

run "notifications_topic_is_encrypted_and_the_lambdas_may_only_notify_there" {
  command = apply

  assert {
    condition     = aws_sns_topic.notifications.name == "batchscore-notifications" && aws_sns_topic.notifications.kms_master_key_id == aws_kms_key.notifications.arn
    error_message = "The topic is \"<name>-notifications\", encrypted with the stack's own key."
  }

  assert {
    condition     = aws_kms_key.notifications.enable_key_rotation
    error_message = "The topic's key rotates."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.notifications_key.statement :
      contains(flatten([for p in s.principals : p.identifiers if p.type == "Service"]), "cloudwatch.amazonaws.com") && toset(s.actions) == toset(["kms:Decrypt", "kms:GenerateDataKey*"])
    ])
    error_message = "CloudWatch alarms may use the key (to publish to the encrypted topic), for data keys only."
  }

  assert {
    condition = alltrue([
      for key, doc in data.aws_iam_policy_document.notify :
      one([for s in doc.statement : s.resources if s.sid == "PublishToTheTopic"]) == toset([aws_sns_topic.notifications.arn])
      && one([for s in doc.statement : s.resources if s.sid == "EncryptForTheTopic"]) == toset([aws_kms_key.notifications.arn])
      && one([for s in doc.statement : s.resources if s.sid == "PutEventsOnTheDefaultBus"]) == toset(["arn:aws:events:eu-west-1:123456789012:event-bus/default"])
    ])
    error_message = "The Lambdas publish to this stack's topic, with its key, and put events on the default bus only."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.notify["state"].statement : s.resources if s.sid == "FindTheLastRunOfAName"]) == toset(["${aws_dynamodb_table.jobs.arn}/index/by-name"]) && length([for s in data.aws_iam_policy_document.notify["ingest"].statement : s if s.sid == "FindTheLastRunOfAName"]) == 0
    error_message = "Only the state Lambda (drift) queries the by-name index."
  }

  assert {
    condition = alltrue([
      for key in ["ingest", "state"] :
      aws_lambda_function.this[key].environment[0].variables["BATCHSCORE_NOTIFY_TOPIC_ARN"] == aws_sns_topic.notifications.arn
      && aws_lambda_function.this[key].environment[0].variables["BATCHSCORE_EVENT_BUS"] == "default"
      && aws_lambda_function.this[key].environment[0].variables["BATCHSCORE_DRIFT_THRESHOLD"] == "0.2"
      && aws_lambda_function.this[key].environment[0].variables["BATCHSCORE_RUNNABLE_ALERT_SECONDS"] == "3600"
    ])
    error_message = "Both Lambdas know the topic, the bus, the drift threshold (0.2) and the RUNNABLE threshold (60 minutes)."
  }

  assert {
    condition     = aws_dynamodb_table.jobs.global_secondary_index != null && contains([for i in aws_dynamodb_table.jobs.global_secondary_index : i.name], "by-name")
    error_message = "The table has the by-name index drift uses."
  }
}

run "notification_thresholds_are_variables" {
  command = plan

  variables {
    drift_threshold        = 0.35
    runnable_alert_minutes = 15
  }

  assert {
    condition     = local.notification_environment.BATCHSCORE_DRIFT_THRESHOLD == "0.35" && local.notification_environment.BATCHSCORE_RUNNABLE_ALERT_SECONDS == "900"
    error_message = "drift_threshold and runnable_alert_minutes reach the Lambdas."
  }
}

run "drift_threshold_must_be_positive" {
  command = plan

  variables {
    drift_threshold = 0
  }

  expect_failures = [var.drift_threshold]
}
