# Offline unit tests of the monitoring module: `terraform test` (mocked AWS provider).

mock_provider "aws" {
  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/0b1f4a52-7c3e-4d8e-9a41-2f5d6c7b8e90"
      key_id = "0b1f4a52-7c3e-4d8e-9a41-2f5d6c7b8e90"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:123456789012:scones-test-alarms"
    }
  }

  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = {
      arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:scones-test-alarm"
    }
  }

  mock_resource "aws_cloudwatch_dashboard" {
    defaults = {
      dashboard_arn = "arn:aws:cloudwatch::123456789012:dashboard/scones-test-overview"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name_prefix        = "scones-test"
  account_id         = "123456789012"
  state_machine_name = "scones-test-classify"
  endpoint_name      = "scones-test-endpoint"
  function_names = {
    serialize_image_data = "scones-test-serialize-image-data"
    classify_image       = "scones-test-classify-image"
    filter_inferences    = "scones-test-filter-inferences"
  }
}

run "before_the_endpoint_exists" {
  command = apply

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.workflow_failed.namespace == "AWS/States" &&
      aws_cloudwatch_metric_alarm.workflow_failed.metric_name == "ExecutionsFailed" &&
      aws_cloudwatch_metric_alarm.workflow_failed.dimensions == tomap({ StateMachineArn = "arn:aws:states:us-east-1:123456789012:stateMachine:scones-test-classify" }) &&
      aws_cloudwatch_metric_alarm.workflow_failed.statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.workflow_failed.comparison_operator == "GreaterThanOrEqualToThreshold" &&
      aws_cloudwatch_metric_alarm.workflow_failed.threshold == 1
    )
    error_message = "The workflow alarm fires on ExecutionsFailed >= 1 of the state machine."
  }

  assert {
    condition = {
      for k, a in aws_cloudwatch_metric_alarm.lambda_errors : k => [a.alarm_name, a.namespace, a.metric_name, a.dimensions.FunctionName, a.threshold]
      } == {
      serialize_image_data = ["scones-test-serialize-image-data-errors", "AWS/Lambda", "Errors", "scones-test-serialize-image-data", 1]
      classify_image       = ["scones-test-classify-image-errors", "AWS/Lambda", "Errors", "scones-test-classify-image", 1]
      filter_inferences    = ["scones-test-filter-inferences-errors", "AWS/Lambda", "Errors", "scones-test-filter-inferences", 1]
    }
    error_message = "One Lambda errors alarm per function, on its FunctionName."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.endpoint_5xx) == 0 && length(aws_cloudwatch_metric_alarm.model_latency) == 0
    error_message = "No endpoint alarm before the endpoint exists."
  }

  assert {
    condition = alltrue([
      for a in concat([aws_cloudwatch_metric_alarm.workflow_failed], values(aws_cloudwatch_metric_alarm.lambda_errors)) :
      a.treat_missing_data == "notBreaching" && a.alarm_actions == toset([aws_sns_topic.this.arn]) && a.ok_actions == toset([aws_sns_topic.this.arn]) && a.period == 300
    ])
    error_message = "Every alarm treats missing data as not breaching and notifies the topic on alarm and OK."
  }

  assert {
    condition     = aws_sns_topic.this.name == "scones-test-alarms" && aws_sns_topic.this.kms_master_key_id == aws_kms_key.this[0].arn
    error_message = "The topic is encrypted with the key the module creates."
  }

  assert {
    condition     = aws_kms_key.this[0].enable_key_rotation && aws_kms_alias.this[0].name == "alias/scones-test-alarms"
    error_message = "The topic's key rotates and has an alias."
  }

  assert {
    condition     = length(aws_sns_topic_subscription.this) == 0
    error_message = "No email subscription unless alarm_emails lists some."
  }

  assert {
    condition = (
      [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.title] ==
      ["Workflow executions", "Results by status", "Lambda errors", "Lambda duration (ms, average)", "Alarms"]
    )
    error_message = "Before the endpoint exists the dashboard shows the workflow, the functions and the alarms."
  }

  assert {
    condition = (
      jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets[0].properties.metrics == [
        ["AWS/States", "ExecutionsStarted", "StateMachineArn", "arn:aws:states:us-east-1:123456789012:stateMachine:scones-test-classify"],
        ["AWS/States", "ExecutionsSucceeded", "StateMachineArn", "arn:aws:states:us-east-1:123456789012:stateMachine:scones-test-classify"],
        ["AWS/States", "ExecutionsFailed", "StateMachineArn", "arn:aws:states:us-east-1:123456789012:stateMachine:scones-test-classify"],
      ] &&
      toset([for m in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets[3].properties.metrics : [m[0], m[1], m[2], m[3]]]) ==
      toset([for n in values(var.function_names) : ["AWS/Lambda", "Duration", "FunctionName", n]])
    )
    error_message = "The dashboard charts executions started/succeeded/failed and each function's duration."
  }

  assert {
    condition     = aws_cloudwatch_dashboard.this[0].dashboard_name == "scones-test-overview" && output.dashboard_name == "scones-test-overview"
    error_message = "The dashboard is named <name_prefix>-overview."
  }

  assert {
    condition = (
      output.alarm_names.workflow_failed == "scones-test-workflow-executions-failed" &&
      length(output.alarm_names.lambda_errors) == 3 &&
      output.alarm_names.endpoint_5xx == null &&
      output.alarm_topic_arn == aws_sns_topic.this.arn
    )
    error_message = "Outputs name the alarms and the topic."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.workflow_failed.threshold == 1 &&
      aws_cloudwatch_metric_alarm.workflow_stalled["ExecutionsTimedOut"].threshold == 1 &&
      aws_cloudwatch_metric_alarm.workflow_stalled["ExecutionThrottled"].metric_name == "ExecutionThrottled" &&
      length(aws_cloudwatch_metric_alarm.dead_letters) == 0
    )
    error_message = "A failed, timed-out or throttled execution alarms at 1; no queues given, no queue alarms."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.needs_review_share.threshold == 0.3 &&
      one([for q in aws_cloudwatch_metric_alarm.needs_review_share.metric_query : q.expression if q.id == "share"]) == "IF(needs_review + classified >= 20, needs_review / (needs_review + classified), 0)" &&
      toset(flatten([for q in aws_cloudwatch_metric_alarm.needs_review_share.metric_query : [for m in q.metric : m.metric_name]])) == toset(["NeedsReview", "Classified"])
    )
    error_message = "The drift alarm is the hourly share of NeedsReview among decided images, quiet below 20 decisions."
  }
}

run "dead_letter_queues_alarm_when_not_empty" {
  command = apply

  variables {
    dead_letter_queues = { ingest = "scones-test-ingest-dlq", review = "scones-test-review-dlq" }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.dead_letters["ingest"].dimensions.QueueName == "scones-test-ingest-dlq" &&
      aws_cloudwatch_metric_alarm.dead_letters["ingest"].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.dead_letters["ingest"].threshold == 0 &&
      output.alarm_names.dead_letters == { ingest = "scones-test-ingest-dlq-not-empty", review = "scones-test-review-dlq-not-empty" }
    )
    error_message = "One message in a dead-letter queue fires its alarm."
  }
}

run "endpoint_alarms_and_widgets" {
  command = apply

  variables {
    enable_endpoint_monitoring = true
    endpoint_5xx_threshold     = 3
    model_latency_threshold_ms = 250
    alarm_period_seconds       = 60
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.endpoint_5xx[0].alarm_name == "scones-test-endpoint-5xx-errors" &&
      aws_cloudwatch_metric_alarm.endpoint_5xx[0].namespace == "AWS/SageMaker" &&
      aws_cloudwatch_metric_alarm.endpoint_5xx[0].metric_name == "Invocation5XXErrors" &&
      aws_cloudwatch_metric_alarm.endpoint_5xx[0].dimensions == tomap({ EndpointName = "scones-test-endpoint", VariantName = "AllTraffic" }) &&
      aws_cloudwatch_metric_alarm.endpoint_5xx[0].threshold == 3 &&
      aws_cloudwatch_metric_alarm.endpoint_5xx[0].period == 60
    )
    error_message = "The 5xx alarm watches Invocation5XXErrors of the endpoint's AllTraffic variant."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.model_latency[0].metric_name == "ModelLatency" &&
      aws_cloudwatch_metric_alarm.model_latency[0].dimensions == tomap({ EndpointName = "scones-test-endpoint", VariantName = "AllTraffic" }) &&
      aws_cloudwatch_metric_alarm.model_latency[0].threshold == 250000 &&
      aws_cloudwatch_metric_alarm.model_latency[0].extended_statistic == "p90" &&
      aws_cloudwatch_metric_alarm.model_latency[0].statistic == null &&
      aws_cloudwatch_metric_alarm.model_latency[0].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.model_latency[0].treat_missing_data == "notBreaching" &&
      aws_cloudwatch_metric_alarm.model_latency[0].ok_actions == toset([aws_sns_topic.this.arn])
    )
    error_message = "The latency alarm compares p90 ModelLatency (microseconds) with the threshold in ms x 1000."
  }

  assert {
    condition = (
      [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.title] ==
      ["Workflow executions", "Results by status", "Lambda errors", "Lambda duration (ms, average)", "Endpoint invocations", "Model latency (µs, p90)", "Endpoint 4xx / 5xx errors", "Alarms"]
    )
    error_message = "With the endpoint the dashboard adds invocations, latency and errors."
  }

  assert {
    condition = (
      jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets[4].properties.metrics == [["AWS/SageMaker", "Invocations", "EndpointName", "scones-test-endpoint", "VariantName", "AllTraffic"]] &&
      jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets[5].properties.metrics == [["AWS/SageMaker", "ModelLatency", "EndpointName", "scones-test-endpoint", "VariantName", "AllTraffic"]] &&
      jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets[6].properties.metrics == [
        ["AWS/SageMaker", "Invocation4XXErrors", "EndpointName", "scones-test-endpoint", "VariantName", "AllTraffic"],
        ["AWS/SageMaker", "Invocation5XXErrors", "EndpointName", "scones-test-endpoint", "VariantName", "AllTraffic"],
      ]
    )
    error_message = "Endpoint widgets chart AWS/SageMaker metrics by EndpointName and VariantName."
  }

  assert {
    condition = (
      length(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets[7].properties.alarms) == 9 &&
      contains(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets[7].properties.alarms, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:scones-test-endpoint-model-latency")
    )
    error_message = "The alarm widget shows all six alarms."
  }

  assert {
    condition     = output.alarm_names.endpoint_5xx == "scones-test-endpoint-5xx-errors" && output.alarm_names.model_latency == "scones-test-endpoint-model-latency"
    error_message = "Outputs name the endpoint alarms once they exist."
  }
}

run "average_latency_statistic" {
  command = plan

  variables {
    enable_endpoint_monitoring = true
    model_latency_statistic    = "Average"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.model_latency[0].statistic == "Average" && aws_cloudwatch_metric_alarm.model_latency[0].extended_statistic == null
    error_message = "Average and Maximum are plain statistics, not extended ones."
  }
}

run "own_key_and_email_subscriptions" {
  command = apply

  variables {
    kms_key_arn  = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    alarm_emails = ["ops@example.com", "ml@example.com"]
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && aws_sns_topic.this.kms_master_key_id == var.kms_key_arn
    error_message = "A given key encrypts the topic and no key is created."
  }

  assert {
    condition = (
      toset([for s in aws_sns_topic_subscription.this : s.endpoint]) == toset(var.alarm_emails) &&
      alltrue([for s in aws_sns_topic_subscription.this : s.protocol == "email" && s.topic_arn == aws_sns_topic.this.arn])
    )
    error_message = "Each address in alarm_emails gets an email subscription to the topic."
  }
}

run "rejects_invalid_thresholds" {
  command = plan

  variables {
    workflow_failed_threshold  = 0
    lambda_errors_threshold    = 1.5
    endpoint_5xx_threshold     = -1
    model_latency_threshold_ms = 0
    model_latency_statistic    = "Median"
    alarm_period_seconds       = 90
    alarm_emails               = ["not-an-address"]
  }

  expect_failures = [
    var.workflow_failed_threshold,
    var.lambda_errors_threshold,
    var.endpoint_5xx_threshold,
    var.model_latency_threshold_ms,
    var.model_latency_statistic,
    var.alarm_period_seconds,
    var.alarm_emails,
  ]
}

run "rejects_latency_beyond_the_invocation_timeout" {
  command = plan

  variables {
    model_latency_threshold_ms = 60001
    state_machine_name         = "arn:aws:states:us-east-1:123456789012:stateMachine:scones-test-classify"
  }

  expect_failures = [
    var.model_latency_threshold_ms,
    var.state_machine_name,
  ]
}

run "dashboard_can_be_left_out" {
  command = plan

  variables {
    enable_dashboard = false
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0 && output.dashboard_name == null
    error_message = "enable_dashboard = false creates no dashboard and outputs a null name."
  }
}
