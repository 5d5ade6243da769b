locals {
  region        = data.aws_region.this.name
  topic_name    = "${var.name_prefix}-alarms"
  kms_key_arn   = var.kms_key_arn == null ? aws_kms_key.this[0].arn : var.kms_key_arn
  alarm_actions = [aws_sns_topic.this.arn]

  # Built the way Step Functions forms it, like the functions module's ARNs: known at plan time.
  state_machine_arn = "arn:${data.aws_partition.this.partition}:states:${local.region}:${var.account_id}:stateMachine:${var.state_machine_name}"

  endpoint_dimensions = {
    EndpointName = var.endpoint_name
    VariantName  = var.variant_name
  }

  # Alarm names, known at plan time: outputs, the dashboard's alarm widget and tests use them.
  workflow_alarm_name     = "${var.name_prefix}-workflow-executions-failed"
  error_alarmed_functions = { for key, name in var.function_names : key => name if !contains(var.functions_with_business_errors, key) }
  lambda_alarm_names      = { for key, name in local.error_alarmed_functions : key => "${name}-errors" }
  endpoint_alarm_names    = var.enable_endpoint_monitoring ? { endpoint_5xx = "${var.endpoint_name}-5xx-errors", model_latency = "${var.endpoint_name}-model-latency" } : {}
  stalled_metrics = {
    ExecutionsTimedOut = "Executions of the classification workflow timed out (TimeoutSeconds of the machine or a task). See the execution history."
    ExecutionThrottled = "Step Functions throttled the classification workflow's state transitions. Look at the start rate (the ingest rule, make classify) and the account's quotas."
  }
  stalled_alarm_names     = { ExecutionsTimedOut = "${var.name_prefix}-workflow-executions-timed-out", ExecutionThrottled = "${var.name_prefix}-workflow-executions-throttled" }
  dead_letter_alarm_names = { for key, queue in var.dead_letter_queues : key => "${queue}-not-empty" }
  needs_review_alarm_name = "${var.name_prefix}-needs-review-share"
  alarm_names = concat(
    [local.workflow_alarm_name],
    values(local.stalled_alarm_names),
    values(local.dead_letter_alarm_names),
    [local.needs_review_alarm_name],
    values(local.lambda_alarm_names),
    values(local.endpoint_alarm_names),
  )

  # ModelLatency is in microseconds.
  model_latency_threshold_us = var.model_latency_threshold_ms * 1000
  latency_is_percentile      = startswith(var.model_latency_statistic, "p")
}
