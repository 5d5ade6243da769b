locals {
  endpoint_metric_dimensions = ["EndpointName", var.endpoint_name, "VariantName", var.variant_name]

  # Widgets in reading order: the workflow, its functions, the endpoint (once it exists), and
  # the state of every alarm. Placed two per row below.
  dashboard_widgets = concat(
    [
      {
        title   = "Workflow executions"
        view    = "timeSeries"
        stat    = "Sum"
        metrics = [for m in ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed"] : ["AWS/States", m, "StateMachineArn", local.state_machine_arn]]
      },
      {
        title = "Results by status"
        view  = "timeSeries"
        stat  = "Sum"
        metrics = [
          [var.metrics_namespace, "Classified", "Service", var.name_prefix, { label = "classified" }],
          [var.metrics_namespace, "NeedsReview", "Service", var.name_prefix, { label = "needs_review" }],
          ["AWS/States", "ExecutionsFailed", "StateMachineArn", local.state_machine_arn, { label = "failed" }],
        ]
      },
      {
        title   = "Lambda errors"
        view    = "timeSeries"
        stat    = "Sum"
        metrics = [for key, name in var.function_names : ["AWS/Lambda", "Errors", "FunctionName", name, { label = key }]]
      },
      {
        title   = "Lambda duration (ms, average)"
        view    = "timeSeries"
        stat    = "Average"
        metrics = [for key, name in var.function_names : ["AWS/Lambda", "Duration", "FunctionName", name, { label = key }]]
      },
    ],
    # A for with an if, not a conditional: the two branches of ?: would be tuples of different types.
    [for w in [
      {
        title   = "Endpoint invocations"
        view    = "timeSeries"
        stat    = "Sum"
        metrics = [concat(["AWS/SageMaker", "Invocations"], local.endpoint_metric_dimensions)]
      },
      {
        title   = "Model latency (µs, ${var.model_latency_statistic})"
        view    = "timeSeries"
        stat    = var.model_latency_statistic
        metrics = [concat(["AWS/SageMaker", "ModelLatency"], local.endpoint_metric_dimensions)]
        annotations = {
          horizontal = [{ label = "alarm", value = local.model_latency_threshold_us }]
        }
      },
      {
        title   = "Endpoint 4xx / 5xx errors"
        view    = "timeSeries"
        stat    = "Sum"
        metrics = [for m in ["Invocation4XXErrors", "Invocation5XXErrors"] : concat(["AWS/SageMaker", m], local.endpoint_metric_dimensions)]
      },
    ] : w if var.enable_endpoint_monitoring],
  )

  dashboard_body = {
    widgets = concat(
      [
        for i, w in local.dashboard_widgets : {
          type   = "metric"
          x      = (i % 2) * 12
          y      = floor(i / 2) * 6
          width  = 12
          height = 6
          properties = merge(
            {
              title   = w.title
              view    = w.view
              stat    = w.stat
              metrics = w.metrics
              region  = local.region
              period  = var.dashboard_period_seconds
            },
            try({ annotations = w.annotations }, {}),
          )
        }
      ],
      [
        {
          type   = "alarm"
          x      = 0
          y      = ceil(length(local.dashboard_widgets) / 2) * 6
          width  = 24
          height = 4
          properties = {
            title  = "Alarms"
            alarms = [for name in local.alarm_names : "arn:${data.aws_partition.this.partition}:cloudwatch:${local.region}:${var.account_id}:alarm:${name}"]
          }
        }
      ],
    )
  }
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.enable_dashboard ? 1 : 0

  dashboard_name = "${var.name_prefix}-overview"
  dashboard_body = jsonencode(local.dashboard_body)
}

# The dashboard became optional (enable_dashboard): a state made before keeps it.
moved {
  from = aws_cloudwatch_dashboard.this
  to   = aws_cloudwatch_dashboard.this[0]
}
