# Guarded rollout of a new model on a provisioned endpoint: SageMaker's blue/green deployment
# with canary traffic shifting and automatic rollback on CloudWatch alarms
# (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green-canary.html).
# SageMaker provisions the new (green) fleet, sends it the canary share, bakes for
# rollout_wait_seconds watching rollback_alarm_names, shifts the rest, bakes again, then retires
# the old (blue) fleet. An alarm in ALARM during a bake sends all traffic back to blue: the
# endpoint stays InService on the old configuration, with FailureReason set.
#
# Provisioned variants only (local.guarded_rollout): a canary is sized in the variant's instances
# ("less than or equal to 50% of the variant's total instance count", API TrafficRoutingConfig),
# which a serverless variant does not have, and the guardrails' exclusions list serverless
# endpoints for rolling deployments
# (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html). A
# serverless variant gets SageMaker's default instead: blue/green, all traffic at once.

locals {
  guarded_rollout = local.create_endpoint && var.serverless_config == null

  rollback_alarm_arns = [
    for name in var.rollback_alarm_names :
    "arn:${data.aws_partition.this.partition}:cloudwatch:${data.aws_region.this.name}:${var.account_id}:alarm:${name}"
  ]
}

# "Ensure that your IAM execution role has permission to perform the cloudwatch:DescribeAlarms
# action on the auto-rollback alarms you specify." (Auto-Rollback Configuration and Monitoring,
# https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html)
data "aws_iam_policy_document" "rollback_alarms" {
  count = local.guarded_rollout && length(var.rollback_alarm_names) > 0 ? 1 : 0

  statement {
    sid       = "DescribeRollbackAlarms"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = local.rollback_alarm_arns
  }
}

resource "aws_iam_role_policy" "rollback_alarms" {
  count = local.guarded_rollout && length(var.rollback_alarm_names) > 0 ? 1 : 0

  name   = "${var.name_prefix}-sagemaker-rollback-alarms"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.rollback_alarms[0].json
}
