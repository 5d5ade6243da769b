# Offline unit tests of the workflow module: `terraform test` (mocked AWS provider).

mock_provider "aws" {
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/scones-test-classify-sfn"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/scones-test-classify"
    }
  }

  mock_resource "aws_sfn_state_machine" {
    defaults = {
      arn = "arn:aws:states:us-east-1:123456789012:stateMachine:scones-test-classify"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
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
  name_prefix              = "scones-test"
  serialize_image_data_arn = "arn:aws:lambda:us-east-1:123456789012:function:scones-test-serialize-image-data"
  classify_image_arn       = "arn:aws:lambda:us-east-1:123456789012:function:scones-test-classify-image"
  filter_inferences_arn    = "arn:aws:lambda:us-east-1:123456789012:function:scones-test-filter-inferences"
  results_table_name       = "scones-test-results"
  results_table_arn        = "arn:aws:dynamodb:us-east-1:123456789012:table/scones-test-results"
  review_queue_url         = "https://sqs.us-east-1.amazonaws.com/123456789012/scones-test-review"
  review_queue_arn         = "arn:aws:sqs:us-east-1:123456789012:scones-test-review"
  threshold                = 0.93
  model_name               = "scones-test-model-1"
  model_data_url           = "s3://scones-test/models/job-1/output/model.tar.gz"
  account_id               = "123456789012"
  bucket_name              = "scones-test"
  batch_read_prefixes      = ["test", "incoming"]
}

run "standard_state_machine_from_the_template" {
  command = apply

  assert {
    condition     = aws_sfn_state_machine.this.type == "STANDARD" && aws_sfn_state_machine.this.name == "scones-test-classify"
    error_message = "A STANDARD state machine named <name_prefix>-classify."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).StartAt == "CheckInput" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.SerializeImageData.Parameters.FunctionName == var.serialize_image_data_arn &&
      jsondecode(aws_sfn_state_machine.this.definition).States.ClassifyImage.Parameters.FunctionName == var.classify_image_arn &&
      jsondecode(aws_sfn_state_machine.this.definition).States.FilterInferences.Parameters.FunctionName == var.filter_inferences_arn
    )
    error_message = "The template's placeholders are replaced with the three function ARNs in order."
  }

  assert {
    condition     = !strcontains(aws_sfn_state_machine.this.definition, format("%s{", "$"))
    error_message = "No placeholder is left in the rendered definition."
  }

  assert {
    condition = (
      aws_sfn_state_machine.this.logging_configuration[0].level == "ERROR" &&
      aws_sfn_state_machine.this.logging_configuration[0].include_execution_data == false &&
      aws_sfn_state_machine.this.logging_configuration[0].log_destination == "${aws_cloudwatch_log_group.this.arn}:*" &&
      aws_sfn_state_machine.this.tracing_configuration[0].enabled
    )
    error_message = "Executions are logged to the module's log group and traced."
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.this.statement : s.resources if s.sid == "InvokeWorkflowFunctions"
      ][0] == toset(flatten([
        for arn in [var.serialize_image_data_arn, var.classify_image_arn, var.filter_inferences_arn] : [arn, "${arn}:*"]
    ]))
    error_message = "The role may invoke exactly the three functions and their versions."
  }

  assert {
    condition     = output.state_machine_arn == "arn:aws:states:us-east-1:123456789012:stateMachine:scones-test-classify"
    error_message = "state_machine_arn comes from the state machine."
  }

  assert {
    condition = alltrue([
      for machine, arn in {
        this  = "arn:aws:states:us-east-1:${var.account_id}:stateMachine:scones-test-classify"
        batch = "arn:aws:states:us-east-1:${var.account_id}:stateMachine:scones-test-classify-batch"
      } :
      { for c in one(data.aws_iam_policy_document.assume_role[machine].statement).condition : c.variable => "${c.test} ${join(",", c.values)}" } == {
        "aws:SourceAccount" = "StringEquals ${var.account_id}"
        "aws:SourceArn"     = "ArnLike ${arn}"
      }
    ])
    error_message = "Each machine's role is assumed by Step Functions in this account, for that machine only."
  }
}

run "results_and_review_are_written_by_the_workflow" {
  command = apply

  assert {
    condition = alltrue([
      for state in ["RecordClassified", "RecordNeedsReview", "RecordFailure"] :
      jsondecode(aws_sfn_state_machine.this.definition).States[state].Resource == "arn:aws:states:::dynamodb:putItem" &&
      jsondecode(aws_sfn_state_machine.this.definition).States[state].Parameters.TableName == "scones-test-results" &&
      jsondecode(aws_sfn_state_machine.this.definition).States[state].Parameters.ConditionExpression == "attribute_not_exists(s3_key) OR #status = :failed"
    ])
    error_message = "Every outcome is written to the results table with a conditional put (one item per object version)."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).States.SendForReview.Parameters.QueueUrl == var.review_queue_url &&
      jsondecode(aws_sfn_state_machine.this.definition).States.RecordNeedsReview.Parameters.Item.model_name.S == "scones-test-model-1" &&
      jsondecode(aws_sfn_state_machine.this.definition).States.RecordNeedsReview.Parameters.Item.threshold.N == "0.93"
    )
    error_message = "An unsure image goes to the review queue, recorded with the model and the threshold."
  }

  assert {
    condition = alltrue([
      for name, state in jsondecode(aws_sfn_state_machine.this.definition).States :
      try(state.TimeoutSeconds, 0) > 0 if state.Type == "Task"
    ]) && jsondecode(aws_sfn_state_machine.this.definition).TimeoutSeconds == 900
    error_message = "Every task and the machine have a timeout."
  }

  assert {
    condition     = [for s in data.aws_iam_policy_document.this.statement : s.resources if s.sid == "RecordResults"][0] == toset([var.results_table_arn]) && [for s in data.aws_iam_policy_document.this.statement : s.resources if s.sid == "QueueForReview"][0] == toset([var.review_queue_arn])
    error_message = "The role may write only the results table and send only to the review queue."
  }
}

run "before_the_first_model" {
  command = plan

  variables {
    model_name     = null
    model_data_url = null
  }

  assert {
    condition     = jsondecode(local.definition).States.RecordClassified.Parameters.Item.model_name.S == "(none)"
    error_message = "Without a model the items say so."
  }
}

run "log_level_follows_variable" {
  command = plan

  variables {
    log_level          = "ALL"
    log_retention_days = 7
  }

  assert {
    condition     = aws_sfn_state_machine.this.logging_configuration[0].level == "ALL" && aws_cloudwatch_log_group.this.retention_in_days == 7
    error_message = "Log level and retention follow the variables."
  }
}

run "rejects_invalid_values" {
  command = plan

  variables {
    log_level          = "DEBUG"
    log_retention_days = 10
    classify_image_arn = "arn:aws:lambda:us-east-1:123456789012:function:scones-test-classify-image:7"
    workflow_type      = "express"
  }

  expect_failures = [
    var.log_level,
    var.log_retention_days,
    var.classify_image_arn,
    var.workflow_type,
  ]
}

run "express_workflow_logs_its_history_and_ends_within_five_minutes" {
  command = apply

  variables {
    workflow_type          = "EXPRESS"
    log_level              = "ERROR"
    include_execution_data = true
  }

  assert {
    condition     = aws_sfn_state_machine.this.type == "EXPRESS" && output.state_machine_type == "EXPRESS"
    error_message = "workflow_type sets the per-image machine's type."
  }

  assert {
    condition = (
      aws_sfn_state_machine.this.logging_configuration[0].level == "ERROR" &&
      aws_sfn_state_machine.this.logging_configuration[0].include_execution_data == true &&
      aws_sfn_state_machine.this.logging_configuration[0].log_destination == "${aws_cloudwatch_log_group.this.arn}:*"
    )
    error_message = "An Express machine's history goes to the module's log group, at the level and with the data asked."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).TimeoutSeconds == 300
    error_message = "An Express machine times out at 300 s, Express's limit (the template's 900 s is Standard's)."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).States == jsondecode(local.rendered).States &&
      jsondecode(aws_sfn_state_machine.this.definition).StartAt == "CheckInput"
    )
    error_message = "Only the timeout differs from the Standard definition: the same states, retries and conditional writes."
  }

  assert {
    condition     = aws_sfn_state_machine.batch.type == "STANDARD"
    error_message = "The batch machine stays STANDARD whatever the per-image type (a Distributed Map's parent)."
  }
}

run "express_needs_a_log_level_that_keeps_history" {
  command = plan

  variables {
    workflow_type = "EXPRESS"
    log_level     = "OFF"
  }

  expect_failures = [
    aws_sfn_state_machine.this,
  ]
}

run "standard_keeps_the_template_timeout_and_any_log_level" {
  command = plan

  variables {
    workflow_type = "STANDARD"
    log_level     = "OFF"
  }

  assert {
    condition     = aws_sfn_state_machine.this.type == "STANDARD" && jsondecode(aws_sfn_state_machine.this.definition).TimeoutSeconds == 900 && aws_sfn_state_machine.this.definition == local.rendered
    error_message = "A Standard machine runs the template as written, 900 s timeout included."
  }
}

run "batch_machine_maps_the_per_image_states_over_a_prefix" {
  command = plan

  variables {
    batch_max_concurrency              = 12
    batch_tolerated_failure_percentage = 2.5
  }

  assert {
    condition     = aws_sfn_state_machine.batch.name == "scones-test-classify-batch" && aws_sfn_state_machine.batch.type == "STANDARD"
    error_message = "A STANDARD machine named <name_prefix>-classify-batch (a Distributed Map's parent cannot be Express)."
  }

  assert {
    condition = (
      jsondecode(local.batch_definition).States.ClassifyPrefix.ItemReader.Resource == "arn:aws:states:::s3:listObjectsV2" &&
      jsondecode(local.batch_definition).States.ClassifyPrefix.ItemReader.Parameters.Bucket == "scones-test" &&
      jsondecode(local.batch_definition).States.ClassifyPrefix.ItemProcessor.ProcessorConfig.Mode == "DISTRIBUTED" &&
      jsondecode(local.batch_definition).States.ClassifyPrefix.ItemProcessor.ProcessorConfig.ExecutionType == "EXPRESS" &&
      jsondecode(local.batch_definition).States.ClassifyPrefix.MaxConcurrency == 12 &&
      jsondecode(local.batch_definition).States.ClassifyPrefix.ToleratedFailurePercentage == 2.5 &&
      jsondecode(local.batch_definition).States.ClassifyPrefix.ResultWriter.Parameters.Prefix == "batch-results"
    )
    error_message = "The Map lists the prefix, runs Express children at the configured concurrency and tolerance, and writes its results under batch-results."
  }

  assert {
    condition = alltrue([
      for name, state in jsondecode(local.definition).States :
      jsonencode(jsondecode(local.batch_definition).States.ClassifyPrefix.ItemProcessor.States[name]) == jsonencode(state)
    ])
    error_message = "Every per-image state runs in the batch unchanged: one definition, not a copy."
  }

  assert {
    condition     = jsondecode(local.batch_definition).States.ClassifyPrefix.ItemProcessor.States.ClassifyVersion.Next == jsondecode(local.definition).StartAt
    error_message = "An image to classify enters the per-image states where the event-driven workflow starts."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.batch.statement : [
        for c in s.condition : tolist(c.values) if c.test == "StringLike" && c.variable == "s3:prefix"
      ] if s.sid == "ListImagePrefixes"
    ])) == toset(["test/*", "incoming/*"])
    error_message = "The batch role may list only the image prefixes."
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.batch.statement : s.resources if s.sid == "WriteBatchResults"
    ][0] == toset(["arn:aws:s3:::scones-test/batch-results/*"])
    error_message = "The batch role writes only under batch-results/."
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.batch.statement : s.resources if s.sid == "RunOwnChildren"
    ][0] == toset(["arn:aws:states:us-east-1:123456789012:stateMachine:scones-test-classify-batch"])
    error_message = "The batch role starts only its own children."
  }
}

run "batch_rejects_invalid_settings" {
  command = plan

  variables {
    batch_max_concurrency              = 0
    batch_tolerated_failure_percentage = 101
    batch_read_prefixes                = ["/incoming/"]
  }

  expect_failures = [
    var.batch_max_concurrency,
    var.batch_tolerated_failure_percentage,
    var.batch_read_prefixes,
  ]
}
