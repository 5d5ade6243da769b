# Alarms of the service (trigger, results, review): a failed execution is a fault, so these are
# sharp — one timed-out or throttled execution, one message in a dead-letter queue, or a share
# of unsure images above the environment's threshold fires them.

resource "aws_cloudwatch_metric_alarm" "workflow_stalled" {
  for_each = local.stalled_metrics

  alarm_name          = local.stalled_alarm_names[each.key]
  alarm_description   = each.value
  namespace           = "AWS/States"
  metric_name         = each.key
  dimensions          = { StateMachineArn = local.state_machine_arn }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each = var.dead_letter_queues

  alarm_name          = "${each.value}-not-empty"
  alarm_description   = "The dead-letter queue ${each.value} holds a message: an image was not classified or a review was not taken. Read it, fix the cause, and redrive it."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# The model-drift signal: the share of decided images that needed review over an hour, from the
# Embedded Metric Format line filterInferences logs (functions/filter_inferences).
# Fewer than needs_review_min_samples decisions in the hour is not a breach.
resource "aws_cloudwatch_metric_alarm" "needs_review_share" {
  alarm_name          = local.needs_review_alarm_name
  alarm_description   = "More than ${var.needs_review_share_threshold * 100}% of the images decided in an hour needed a human look: the photos or the model have drifted. Compare make monitor's confidence figure with the training data."
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.needs_review_share_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "share"
    expression  = "IF(needs_review + classified >= ${var.needs_review_min_samples}, needs_review / (needs_review + classified), 0)"
    label       = "Share of images that need review"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { needs_review = "NeedsReview", classified = "Classified" }

    content {
      id = metric_query.key

      metric {
        namespace   = var.metrics_namespace
        metric_name = metric_query.value
        dimensions  = { Service = var.name_prefix }
        stat        = "Sum"
        period      = 3600
      }
    }
  }

  tags = var.tags
}
