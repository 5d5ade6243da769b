locals {
  create_endpoint = var.model_package_arn != null
  bucket_arn      = "arn:${data.aws_partition.this.partition}:s3:::${var.bucket_name}"

  sagemaker_arn_prefix = "arn:${data.aws_partition.this.partition}:sagemaker:${data.aws_region.this.name}:${var.account_id}"
  logs_arn_prefix      = "arn:${data.aws_partition.this.partition}:logs:${data.aws_region.this.name}:${var.account_id}"

  # s3://<bucket>/models/<job>/output/model.tar.gz -> [<bucket>, models/<job>/output]: the one
  # folder the hosting role reads.
  artifact_location = var.model_data_url == null ? null : regex("^s3://([^/]+)/(.+)/[^/]+$", var.model_data_url)
  endpoint_name     = "${var.name_prefix}-endpoint"
  variant_name      = "AllTraffic"

  # Only a provisioned variant has an instance count to scale.
  create_autoscaling = local.create_endpoint && var.serverless_config == null && var.autoscaling != null

  # SageMaker lower-cases endpoint names in ARNs.
  endpoint_arn = "arn:${data.aws_partition.this.partition}:sagemaker:${data.aws_region.this.name}:${var.account_id}:endpoint/${lower(local.endpoint_name)}"

  model_package_group_name = "${var.name_prefix}-models"

  # arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>: SageMaker
  # lower-cases the group name in package ARNs.
  model_package_group = local.create_endpoint ? split("/", var.model_package_arn)[1] : null

  # A new package gives a new model name, so the model is replaced (created first) and the
  # endpoint rolls to a new configuration.
  model_name = local.create_endpoint ? "${var.name_prefix}-model-${substr(sha256(var.model_package_arn), 0, 12)}" : null
}
