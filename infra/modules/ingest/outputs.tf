output "rule_name" {
  description = "Name of the EventBridge rule."
  value       = aws_cloudwatch_event_rule.this.name
}

output "rule_arn" {
  description = "ARN of the EventBridge rule (known before it exists)."
  value       = local.rule_arn
}

output "dlq_url" {
  description = "URL of the dead-letter queue of events whose workflow could not be started."
  value       = aws_sqs_queue.this.id
}

output "dlq_arn" {
  description = "ARN of the ingest dead-letter queue."
  value       = aws_sqs_queue.this.arn
}

output "dlq_name" {
  description = "Name of the ingest dead-letter queue."
  value       = aws_sqs_queue.this.name
}

output "incoming_prefix" {
  description = "Key prefix that starts the workflow."
  value       = var.incoming_prefix
}
