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
}

run "standard_state_machine_from_the_template" {
  command = apply

  assert {
    condition     = aws_sfn_state_machine.this.type == "STANDARD" && aws_sfn_state_machine.this.name == "scones-test-classify"
    error_message = "A STANDARD state machine named <name_prefix>-classify."
  }

  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.this.definition).StartAt == "SerializeImageData" &&
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
  }

  expect_failures = [
    var.log_level,
    var.log_retention_days,
    var.classify_image_arn,
  ]
}
