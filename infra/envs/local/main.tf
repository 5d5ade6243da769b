# The environment is infra/modules/stack; this root adds its provider, backend and
# terraform.tfvars.
module "stack" {
  source = "../../modules/stack"

  environment                      = var.environment
  account_id                       = var.account_id
  bucket_name                      = var.bucket_name
  force_destroy                    = var.force_destroy
  image_read_prefixes              = var.image_read_prefixes
  threshold                        = var.threshold
  log_retention_days               = var.log_retention_days
  workflow_log_level               = var.workflow_log_level
  workflow_type                    = var.workflow_type
  workflow_include_execution_data  = var.workflow_include_execution_data
  endpoint_instance_type           = var.endpoint_instance_type
  endpoint_instance_count          = var.endpoint_instance_count
  endpoint_autoscaling             = var.endpoint_autoscaling
  data_capture_sampling_percentage = var.data_capture_sampling_percentage
  data_capture_expiration_days     = var.data_capture_expiration_days
  endpoint_5xx_alarm_threshold     = var.endpoint_5xx_alarm_threshold
  model_latency_alarm_threshold_ms = var.model_latency_alarm_threshold_ms
  functions_build_dir              = var.functions_build_dir
  model_package_arn                = var.model_package_arn
  endpoint_rollout_canary_size     = var.endpoint_rollout_canary_size
  endpoint_rollout_wait_seconds    = var.endpoint_rollout_wait_seconds
  model_data_url                   = var.model_data_url
  min_accuracy                     = var.min_accuracy
  needs_review_share_threshold     = var.needs_review_share_threshold

  batch_max_concurrency              = var.batch_max_concurrency
  batch_tolerated_failure_percentage = var.batch_tolerated_failure_percentage
}
