# The environment's model registry: `make train` registers every trained model here as a
# versioned model package (Approved or Rejected by the quality gate, metrics attached), and
# `make promote` picks the package the endpoint serves (model_package_arn).
resource "aws_sagemaker_model_package_group" "this" {
  model_package_group_name        = local.model_package_group_name
  model_package_group_description = "Models of ${var.name_prefix}: one version per training job, Approved when its test accuracy reaches ${var.min_accuracy}."

  tags = var.tags
}
