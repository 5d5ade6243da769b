output "dashboard_name" {
  description = "Name of the CloudWatch dashboard of the environment, or null without one (enable_dashboard = false)."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "dashboard_arn" {
  description = "ARN of the CloudWatch dashboard, or null without one."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_arn, null)
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic every alarm notifies (alarm and OK)."
  value       = aws_sns_topic.this.arn
}

output "alarm_topic_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the alarm topic (created by the module unless kms_key_arn is given)."
  value       = local.kms_key_arn
}

output "alarm_names" {
  description = "Alarm names by purpose: workflow_failed, workflow_stalled (timed out, throttled), dead_letters (by queue key), needs_review (the drift share), lambda_errors (by function key), and endpoint_5xx and model_latency once the endpoint is monitored (null before)."
  value = {
    workflow_failed  = aws_cloudwatch_metric_alarm.workflow_failed.alarm_name
    workflow_stalled = { for key, alarm in aws_cloudwatch_metric_alarm.workflow_stalled : key => alarm.alarm_name }
    dead_letters     = { for key, alarm in aws_cloudwatch_metric_alarm.dead_letters : key => alarm.alarm_name }
    needs_review     = aws_cloudwatch_metric_alarm.needs_review_share.alarm_name
    lambda_errors    = { for key, alarm in aws_cloudwatch_metric_alarm.lambda_errors : key => alarm.alarm_name }
    endpoint_5xx     = try(aws_cloudwatch_metric_alarm.endpoint_5xx[0].alarm_name, null)
    model_latency    = try(aws_cloudwatch_metric_alarm.model_latency[0].alarm_name, null)
  }
}
