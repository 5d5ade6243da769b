output "region" {
  description = "AWS region of the environment (the provider's)."
  value       = data.aws_region.this.name
}

output "bucket_name" {
  description = "Name of the project bucket (images, models, data capture)."
  value       = module.storage.bucket_name
}

output "state_machine_arn" {
  description = "ARN of the classification state machine."
  value       = module.workflow.state_machine_arn
}

output "state_machine_name" {
  description = "Name of the classification state machine."
  value       = module.workflow.state_machine_name
}

output "endpoint_name" {
  description = "Name of the SageMaker endpoint (stable; the endpoint exists once model_package_arn is set)."
  value       = module.model_endpoint.endpoint_name
}

output "endpoint_configuration_name" {
  description = "Endpoint configuration Terraform planned for the endpoint (null before the first promotion): `make apply` checks that the endpoint serves it."
  value       = module.model_endpoint.endpoint_configuration_name
}

output "endpoint_deployed" {
  description = "Whether the endpoint is part of this environment yet (model_package_arn set)."
  value       = var.model_package_arn != null
}

output "model_package_group_name" {
  description = "Model package group in which `make train` registers every trained model."
  value       = module.model_endpoint.model_package_group_name
}

output "model_package_arn" {
  description = "ARN of the model package the endpoint serves, or null before the first promotion."
  value       = var.model_package_arn
}

output "min_accuracy" {
  description = "Quality gate of `make train`: test-split accuracy a model needs to be Approved."
  value       = var.min_accuracy
}

output "model_name" {
  description = "Name of the current SageMaker model, or null before the first promotion."
  value       = module.model_endpoint.model_name
}

output "sagemaker_role_arn" {
  description = "ARN of the SageMaker hosting role, the model's execution role."
  value       = module.model_endpoint.role_arn
}

output "sagemaker_training_role_arn" {
  description = "ARN of the SageMaker training role, which `make train` passes to its jobs."
  value       = module.model_endpoint.training_role_arn
}

output "data_capture_s3_uri" {
  description = "S3 URI of the endpoint's data capture files (null when disabled)."
  value       = module.model_endpoint.data_capture_s3_uri
}

output "function_names" {
  description = "Lambda function names by key (serialize_image_data, classify_image, filter_inferences)."
  value       = module.functions.function_names
}

output "log_group_names" {
  description = "CloudWatch log group names: one per function key, and `workflow` for the state machine."
  value       = merge(module.functions.log_group_names, { workflow = module.workflow.log_group_name })
}

output "dashboard_name" {
  description = "Name of the environment's CloudWatch dashboard."
  value       = module.monitoring.dashboard_name
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic the alarms notify; subscribe to it for alarm and OK messages."
  value       = module.monitoring.alarm_topic_arn
}

output "alarm_names" {
  description = "Alarm names: workflow_failed, lambda_errors by function key, endpoint_5xx and model_latency (null until the endpoint exists)."
  value       = module.monitoring.alarm_names
}

output "results_table_name" {
  description = "DynamoDB table of results: one item per object version (status, label, confidence, ...)."
  value       = module.results.table_name
}

output "review_queue_url" {
  description = "SQS queue of images that need a human look."
  value       = module.results.review_queue_url
}

output "ingest_dlq_url" {
  description = "SQS dead-letter queue of Object Created events whose workflow could not be started."
  value       = module.ingest.dlq_url
}

output "incoming_prefix" {
  description = "Key prefix under which a new object starts the workflow."
  value       = module.ingest.incoming_prefix
}

output "batch_state_machine_arn" {
  description = "State machine that classifies a prefix (make classify PREFIX=): a Distributed Map of Express children."
  value       = module.workflow.batch_state_machine_arn
}

output "batch_results_prefix" {
  description = "Key prefix of the batch runs' manifests: <prefix><map run id>/manifest.json."
  value       = module.workflow.batch_results_prefix
}
