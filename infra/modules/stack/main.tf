# The whole environment: storage, model endpoint, functions, workflow and monitoring, wired
# together. Each root (infra/envs/<env>) calls this once with its terraform.tfvars.
locals {
  name_prefix = "${var.project}-${var.environment}"
  build_dir   = trimsuffix(var.functions_build_dir, "/")

  # What the endpoint serves at once: classifyImage holds one invocation per request it waits
  # on, so more concurrent invocations than this only queue at the endpoint (and its retries
  # add load; they do not protect it).
  # With auto scaling, the capacity it may scale out to: reserving only the minimum's would
  # hold the load, and so the invocations per instance it scales on, below its target.
  endpoint_concurrency = (var.endpoint_serverless_config != null
    ? var.endpoint_serverless_config.max_concurrency
    : (var.endpoint_autoscaling != null ? var.endpoint_autoscaling.max_capacity : var.endpoint_instance_count) * var.endpoint_concurrent_requests_per_instance
  )

  tags = merge(
    {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
    },
    var.tags,
  )
}

data "aws_partition" "this" {}

data "aws_region" "this" {}

module "storage" {
  source = "../storage"

  bucket_name                  = var.bucket_name
  force_destroy                = var.force_destroy
  data_capture_expiration_days = var.data_capture_expiration_days
  access_log_bucket_name       = var.access_log_bucket_name

  tags = local.tags
}

module "model_endpoint" {
  source = "../model_endpoint"

  account_id                       = var.account_id
  name_prefix                      = local.name_prefix
  bucket_name                      = module.storage.bucket_name
  model_package_arn                = var.model_package_arn
  model_data_url                   = var.model_data_url
  min_accuracy                     = var.min_accuracy
  instance_type                    = var.endpoint_instance_type
  initial_instance_count           = var.endpoint_instance_count
  serverless_config                = var.endpoint_serverless_config
  autoscaling                      = var.endpoint_autoscaling
  enable_data_capture              = var.enable_data_capture
  data_capture_prefix              = module.storage.data_capture_prefix
  data_capture_sampling_percentage = var.data_capture_sampling_percentage

  # Guarded rollout: a new model is rolled back when the endpoint's monitoring alarms fire.
  rollout_canary_size  = var.endpoint_rollout_canary_size
  rollout_wait_seconds = var.endpoint_rollout_wait_seconds
  rollback_alarm_names = compact([module.monitoring.alarm_names.endpoint_5xx, module.monitoring.alarm_names.model_latency])

  tags = local.tags
}

module "functions" {
  source = "../functions"

  account_id                    = var.account_id
  name_prefix                   = local.name_prefix
  serialize_image_data_zip_path = "${local.build_dir}/serialize_image_data.zip"
  classify_image_zip_path       = "${local.build_dir}/classify_image.zip"
  filter_inferences_zip_path    = "${local.build_dir}/filter_inferences.zip"
  layer_zip_path                = "${local.build_dir}/layer.zip"
  image_bucket_arn              = module.storage.bucket_arn
  image_read_prefixes           = var.image_read_prefixes
  max_image_bytes               = var.max_image_bytes
  image_size                    = var.image_size
  endpoint_name                 = module.model_endpoint.endpoint_name
  endpoint_arn                  = module.model_endpoint.endpoint_arn
  threshold                     = var.threshold
  log_retention_days            = var.log_retention_days

  classify_image_reserved_concurrency = var.reserve_classify_image_concurrency ? local.endpoint_concurrency : null
  enable_code_signing                 = var.enable_code_signing
  code_signing_policy                 = var.code_signing_policy

  tags = local.tags
}

module "results" {
  source = "../results"

  account_id            = var.account_id
  name_prefix           = local.name_prefix
  eventbridge_rule_arns = [module.ingest.rule_arn]
  key_user_role_arns    = [module.workflow.role_arn, module.workflow.batch_role_arn]
  deletion_protection   = var.results_deletion_protection

  tags = local.tags
}

module "workflow" {
  source = "../workflow"

  name_prefix              = local.name_prefix
  serialize_image_data_arn = module.functions.function_arns["serialize_image_data"]
  classify_image_arn       = module.functions.function_arns["classify_image"]
  filter_inferences_arn    = module.functions.function_arns["filter_inferences"]
  results_table_name       = module.results.table_name
  results_table_arn        = module.results.table_arn
  review_queue_url         = module.results.review_queue_url_at_plan
  review_queue_arn         = module.results.review_queue_arn
  threshold                = var.threshold
  model_name               = module.model_endpoint.model_name
  model_data_url           = var.model_data_url
  workflow_type            = var.workflow_type
  log_level                = var.workflow_log_level
  include_execution_data   = var.workflow_include_execution_data
  log_retention_days       = var.log_retention_days

  account_id                         = var.account_id
  bucket_name                        = module.storage.bucket_name
  batch_read_prefixes                = var.image_read_prefixes
  batch_max_concurrency              = var.batch_max_concurrency
  batch_tolerated_failure_percentage = var.batch_tolerated_failure_percentage

  tags = local.tags
}

module "ingest" {
  source = "../ingest"

  account_id      = var.account_id
  region          = data.aws_region.this.name
  name_prefix     = local.name_prefix
  bucket_name     = module.storage.bucket_name
  incoming_prefix = var.incoming_prefix
  # Built from the name, as Step Functions forms it, so the rule's role policy is known at plan.
  state_machine_arn  = "arn:${data.aws_partition.this.partition}:states:${data.aws_region.this.name}:${var.account_id}:stateMachine:${module.workflow.state_machine_name}"
  state_machine_name = module.workflow.state_machine_name
  kms_key_arn        = module.results.kms_key_arn

  tags = local.tags
}

module "monitoring" {
  source = "../monitoring"

  account_id         = var.account_id
  name_prefix        = local.name_prefix
  state_machine_name = module.workflow.state_machine_name
  function_names     = module.functions.function_names
  # filterInferences raises ThresholdConfidenceNotMet for every unsure image by contract: its
  # Errors are business, watched as the needs-review share; its faults fail the execution.
  functions_with_business_errors = ["filter_inferences"]
  endpoint_name                  = module.model_endpoint.endpoint_name
  enable_dashboard               = var.enable_dashboard
  enable_endpoint_monitoring     = var.model_package_arn != null
  alarm_emails                   = var.alarm_emails
  dead_letter_queues = {
    ingest = module.ingest.dlq_name
    review = module.results.review_dlq_name
  }
  needs_review_share_threshold = var.needs_review_share_threshold
  endpoint_5xx_threshold       = var.endpoint_5xx_alarm_threshold
  model_latency_threshold_ms   = var.model_latency_alarm_threshold_ms

  tags = local.tags
}
