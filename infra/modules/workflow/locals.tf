locals {
  name = "${var.name_prefix}-classify"

  function_arns = [var.serialize_image_data_arn, var.classify_image_arn, var.filter_inferences_arn]

  definition = templatefile("${path.module}/templates/classify.asl.json", {
    serialize_image_data_arn = var.serialize_image_data_arn
    classify_image_arn       = var.classify_image_arn
    filter_inferences_arn    = var.filter_inferences_arn
  })
}
