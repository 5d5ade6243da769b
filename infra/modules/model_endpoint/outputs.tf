output "role_arn" {
  description = "ARN of the SageMaker hosting role, the endpoint model's execution role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the SageMaker hosting role."
  value       = aws_iam_role.this.name
}

output "training_role_arn" {
  description = "ARN of the SageMaker training role that `make train` passes to its jobs, or null with enable_training_access = false."
  value       = try(aws_iam_role.training[0].arn, null)
}

output "training_role_name" {
  description = "Name of the SageMaker training role, or null."
  value       = try(aws_iam_role.training[0].name, null)
}

output "endpoint_name" {
  description = "Name of the endpoint; stable across model updates, known before the endpoint exists."
  value       = local.endpoint_name
}

output "endpoint_arn" {
  description = "ARN of the endpoint, built the way SageMaker forms it: known at plan time, and before the first model exists."
  value       = local.endpoint_arn
}

output "endpoint_configuration_name" {
  description = "Generated name of the current endpoint configuration, or null before the first model."
  value       = try(aws_sagemaker_endpoint_configuration.this[0].name, null)
}

output "model_package_group_name" {
  description = "Name of the model package group that `make train` registers models in."
  value       = aws_sagemaker_model_package_group.this.model_package_group_name
}

output "model_package_group_arn" {
  description = "ARN of the model package group."
  value       = aws_sagemaker_model_package_group.this.arn
}

output "model_name" {
  description = "Name of the current model (derived from a hash of model_package_arn), or null before the first promoted package."
  value       = try(aws_sagemaker_model.this[0].name, null)
}

output "image_uri" {
  description = "Image of the built-in Image Classification algorithm in this region, which the model packages name."
  value       = data.aws_sagemaker_prebuilt_ecr_image.this.registry_path
}

output "data_capture_s3_uri" {
  description = "S3 URI under which data capture files are written (null when disabled)."
  value       = var.enable_data_capture ? "s3://${var.bucket_name}/${var.data_capture_prefix}" : null
}

output "autoscaling_resource_id" {
  description = "Application Auto Scaling resource ID of the scaled variant (endpoint/<name>/variant/<variant>), or null when the variant does not scale (serverless, autoscaling = null, or before the first model)."
  value       = try(aws_appautoscaling_target.this[0].resource_id, null)
}
