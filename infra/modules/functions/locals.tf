data "aws_partition" "this" {}

data "aws_region" "this" {}

locals {
  arn_prefix = "arn:${data.aws_partition.this.partition}"
  region     = data.aws_region.this.name

  # One entry per function: its name, package, environment and the statements that are
  # specific to it (logging and tracing are added to every role in iam.tf).
  functions = {
    serialize_image_data = {
      name     = "${var.name_prefix}-serialize-image-data"
      zip_path = var.serialize_image_data_zip_path
      environment = {
        MAX_IMAGE_BYTES = tostring(var.max_image_bytes)
        IMAGE_SIZE      = tostring(var.image_size)
      }
      statements = [
        {
          sid       = "ReadImages"
          actions   = ["s3:GetObject"]
          resources = [for p in var.image_read_prefixes : "${var.image_bucket_arn}/${trimsuffix(p, "/")}/*"]
        },
      ]
    }
    classify_image = {
      name     = "${var.name_prefix}-classify-image"
      zip_path = var.classify_image_zip_path
      environment = {
        ENDPOINT_NAME = var.endpoint_name
      }
      statements = [
        {
          sid       = "InvokeEndpoint"
          actions   = ["sagemaker:InvokeEndpoint"]
          resources = [var.endpoint_arn]
        },
      ]
    }
    filter_inferences = {
      name     = "${var.name_prefix}-filter-inferences"
      zip_path = var.filter_inferences_zip_path
      environment = {
        THRESHOLD = tostring(var.threshold)
        # The Service dimension of the EMF metrics it logs (contract-12: <project>-<env>).
        SERVICE_NAME = var.name_prefix
      }
      statements = []
    }
  }

  # ARNs built from names, known at plan time: PR plans show every policy and the state
  # machine definition in full instead of "(known after apply)".
  function_arns = {
    for k, f in local.functions : k => "${local.arn_prefix}:lambda:${local.region}:${var.account_id}:function:${f.name}"
  }
  log_group_arns = {
    for k, f in local.functions : k => "${local.arn_prefix}:logs:${local.region}:${var.account_id}:log-group:/aws/lambda/${f.name}"
  }
}
