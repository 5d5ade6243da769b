output "table_name" {
  description = "Name of the results table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the results table (known at plan time)."
  value       = local.table_arn
}

output "status_index_name" {
  description = "Global secondary index by status and finished_at."
  value       = "status-finished_at"
}

output "review_queue_url" {
  description = "URL of the review queue (one message per image that needs a human look), as the service answers it."
  value       = aws_sqs_queue.review.id
}

output "review_queue_url_at_plan" {
  description = "URL of the review queue in SQS's documented form, known at plan time (for the workflow's definition)."
  value       = local.review_queue_url
}

output "review_queue_arn" {
  description = "ARN of the review queue (known at plan time)."
  value       = local.review_queue_arn
}

output "review_queue_name" {
  description = "Name of the review queue."
  value       = aws_sqs_queue.review.name
}

output "review_dlq_name" {
  description = "Name of the review queue's dead-letter queue."
  value       = aws_sqs_queue.review_dlq.name
}

output "kms_key_arn" {
  description = "ARN of the key that encrypts the table and the queues."
  value       = aws_kms_key.this.arn
}
