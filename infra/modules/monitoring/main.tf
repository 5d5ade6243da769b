data "aws_partition" "this" {}

data "aws_region" "this" {}

# Every alarm notifies the topic when it fires and when it clears. A metric with no data (no
# executions, no traffic) is not a breach: quiet environments stay green.

resource "aws_cloudwatch_metric_alarm" "workflow_failed" {
  alarm_name          = local.workflow_alarm_name
  alarm_description   = "Executions of the classification workflow failed (a function raised a named error or the endpoint was unavailable). See the execution history and the workflow log group."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsFailed"
  dimensions          = { StateMachineArn = local.state_machine_arn }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.workflow_failed_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = local.error_alarmed_functions

  alarm_name          = local.lambda_alarm_names[each.key]
  alarm_description   = "Lambda function ${each.value} returned errors. See its log group /aws/lambda/${each.value}."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.lambda_errors_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "endpoint_5xx" {
  count = var.enable_endpoint_monitoring ? 1 : 0

  alarm_name          = local.endpoint_alarm_names["endpoint_5xx"]
  alarm_description   = "The SageMaker endpoint ${var.endpoint_name} answered with 5xx errors (the model container failed). See /aws/sagemaker/Endpoints/${var.endpoint_name}."
  namespace           = "AWS/SageMaker"
  metric_name         = "Invocation5XXErrors"
  dimensions          = local.endpoint_dimensions
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.endpoint_5xx_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "model_latency" {
  count = var.enable_endpoint_monitoring ? 1 : 0

  alarm_name          = local.endpoint_alarm_names["model_latency"]
  alarm_description   = "${var.model_latency_statistic} model latency of ${var.endpoint_name} is above ${var.model_latency_threshold_ms} ms. Check the instance type and count, or the model."
  namespace           = "AWS/SageMaker"
  metric_name         = "ModelLatency"
  dimensions          = local.endpoint_dimensions
  statistic           = local.latency_is_percentile ? null : var.model_latency_statistic
  extended_statistic  = local.latency_is_percentile ? var.model_latency_statistic : null
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.model_latency_threshold_us
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}
