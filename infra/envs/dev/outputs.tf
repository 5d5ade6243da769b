# The outputs the tooling reads (scripts/tf.sh output <env> -json), from the stack.
output "region" {
  description = "AWS region of the environment (the provider's)."
  value       = module.stack.region
}

output "bucket_name" {
  description = "Name of the project bucket (images, models, data capture)."
  value       = module.stack.bucket_name
}

output "state_machine_arn" {
  description = "ARN of the classification state machine."
  value       = module.stack.state_machine_arn
}

output "state_machine_name" {
  description = "Name of the classification state machine."
  value       = module.stack.state_machine_name
}

output "endpoint_name" {
  description = "Name of the SageMaker endpoint (stable; the endpoint exists once model_package_arn is set)."
  value       = module.stack.endpoint_name
}

output "endpoint_configuration_name" {
  description = "Endpoint configuration the last apply planned for the endpoint; scripts/endpoint_check.py compares DescribeEndpoint with it."
  value       = module.stack.endpoint_configuration_name
}

output "endpoint_deployed" {
  description = "Whether the endpoint is part of this environment yet (model_package_arn set)."
  value       = module.stack.endpoint_deployed
}

output "model_package_group_name" {
  description = "Model package group in which `make train` registers every trained model."
  value       = module.stack.model_package_group_name
}

output "model_package_arn" {
  description = "ARN of the model package the endpoint serves, or null before the first promotion."
  value       = module.stack.model_package_arn
}

output "min_accuracy" {
  description = "Quality gate of `make train`: test-split accuracy a model needs to be Approved."
  value       = module.stack.min_accuracy
}

output "model_name" {
  description = "Name of the current SageMaker model, or null before the first promotion."
  value       = module.stack.model_name
}

output "sagemaker_role_arn" {
  description = "ARN of the SageMaker hosting role, the model's execution role."
  value       = module.stack.sagemaker_role_arn
}

output "sagemaker_training_role_arn" {
  description = "ARN of the SageMaker training role, which `make train` passes to its jobs."
  value       = module.stack.sagemaker_training_role_arn
}

output "data_capture_s3_uri" {
  description = "S3 URI of the endpoint's data capture files (null when disabled)."
  value       = module.stack.data_capture_s3_uri
}

output "function_names" {
  description = "Lambda function names by key (serialize_image_data, classify_image, filter_inferences)."
  value       = module.stack.function_names
}

output "log_group_names" {
  description = "CloudWatch log group names: one per function key, and `workflow` for the state machine."
  value       = module.stack.log_group_names
}

output "dashboard_name" {
  description = "Name of the environment's CloudWatch dashboard."
  value       = module.stack.dashboard_name
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic the alarms notify; subscribe to it for alarm and OK messages."
  value       = module.stack.alarm_topic_arn
}

output "alarm_names" {
  description = "Alarm names: workflow_failed, lambda_errors by function key, endpoint_5xx and model_latency (null until the endpoint exists)."
  value       = module.stack.alarm_names
}

output "results_table_name" {
  description = "DynamoDB table of results: one item per object version (status, label, confidence, ...)."
  value       = module.stack.results_table_name
}

output "review_queue_url" {
  description = "SQS queue of images that need a human look."
  value       = module.stack.review_queue_url
}

output "ingest_dlq_url" {
  description = "SQS dead-letter queue of Object Created events whose workflow could not be started."
  value       = module.stack.ingest_dlq_url
}

output "incoming_prefix" {
  description = "Key prefix under which a new object starts the workflow."
  value       = module.stack.incoming_prefix
}

output "batch_state_machine_arn" {
  description = "State machine that classifies a prefix (make classify PREFIX=)."
  value       = module.stack.batch_state_machine_arn
}

output "batch_results_prefix" {
  description = "Key prefix of the batch runs' manifests."
  value       = module.stack.batch_results_prefix
}
