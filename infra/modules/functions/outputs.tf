output "function_names" {
  description = "Function names by key (serialize_image_data, classify_image, filter_inferences)."
  value       = { for k, f in aws_lambda_function.this : k => f.function_name }
}

output "function_arns" {
  description = "Function ARNs by key (serialize_image_data, classify_image, filter_inferences); known at plan time."
  value       = local.function_arns

  depends_on = [aws_lambda_function.this]
}

output "role_arns" {
  description = "Execution role ARNs by function key."
  value       = { for k, r in aws_iam_role.this : k => r.arn }
}

output "log_group_names" {
  description = "CloudWatch log group names by function key."
  value       = { for k, g in aws_cloudwatch_log_group.this : k => g.name }
}

output "layer_arn" {
  description = "ARN (with version) of the Pillow layer."
  value       = aws_lambda_layer_version.this.arn
}

output "signing_profile_name" {
  description = "Name of the Signer profile a signing step must sign the zips with (enable_code_signing); null when code signing is off."
  value       = var.enable_code_signing ? aws_signer_signing_profile.this[0].name : null
}

output "reserved_concurrent_executions" {
  description = "Reserved concurrency per function key; -1 is unreserved."
  value       = { for key, f in aws_lambda_function.this : key => f.reserved_concurrent_executions }
}
