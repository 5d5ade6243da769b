data "aws_region" "this" {}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Execution logs carry no image data by default (include_execution_data = false); the AWS owned key encrypts them at rest.
  # Retention is per environment (log_retention_days): short in dev to bound cost, a year in
  # prod. (checkov 3.3.30 reports neither a pass nor a failure of CKV_AWS_338 here.)
  # Under /aws/vendedlogs/ so that the logs resource policy Step Functions writes stays small.
  name              = "/aws/vendedlogs/states/${local.name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_sfn_state_machine" "this" {
  name       = local.name
  type       = var.workflow_type
  role_arn   = aws_iam_role.this.arn
  definition = local.definition

  logging_configuration {
    level                  = var.log_level
    include_execution_data = var.include_execution_data
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
  }

  tracing_configuration {
    enabled = var.tracing_enabled
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.workflow_type == "STANDARD" || contains(["ALL", "ERROR"], var.log_level)
      error_message = "An EXPRESS workflow's only history is its log group: set log_level to ALL or ERROR (FATAL logs only the execution's end, OFF nothing)."
    }
  }

  # Step Functions checks at creation that the role can deliver logs.
  depends_on = [aws_iam_role_policy.this]
}

data "aws_partition" "this" {}

resource "aws_cloudwatch_log_group" "batch" {
  #checkov:skip=CKV_AWS_158:Execution logs carry no image data by default (include_execution_data = false); the AWS owned key encrypts them at rest.
  # Retention as the per-image machine's (log_retention_days).
  name              = "/aws/vendedlogs/states/${local.batch_name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

# A prefix at a time: the Distributed Map's Express children run the per-image states.
resource "aws_sfn_state_machine" "batch" {
  name       = local.batch_name
  type       = "STANDARD" # A Distributed Map's parent must be STANDARD; its children are EXPRESS.
  role_arn   = aws_iam_role.batch.arn
  definition = local.batch_definition

  logging_configuration {
    level                  = var.log_level
    include_execution_data = var.include_execution_data
    log_destination        = "${aws_cloudwatch_log_group.batch.arn}:*"
  }

  tracing_configuration {
    enabled = var.tracing_enabled
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(setintersection(keys(local.batch_item_states), keys(local.per_image.States))) == 0
      error_message = "The batch's own item states must not share a name with the per-image workflow's states."
    }
  }

  depends_on = [aws_iam_role_policy.batch]
}
