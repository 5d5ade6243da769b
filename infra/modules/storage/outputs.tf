output "bucket_name" {
  description = "Name of the project bucket (known at plan time)."
  value       = var.bucket_name

  depends_on = [aws_s3_bucket.this]
}

output "bucket_arn" {
  description = "ARN of the project bucket (known at plan time)."
  value       = local.bucket_arn

  depends_on = [aws_s3_bucket.this]
}

output "bucket_regional_domain_name" {
  description = "Regional domain name of the project bucket."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}

output "data_capture_prefix" {
  description = "Key prefix (no trailing slash) reserved for SageMaker data capture; objects under it expire."
  value       = var.data_capture_prefix
}
