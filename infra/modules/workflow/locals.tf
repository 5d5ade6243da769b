locals {
  name = "${var.name_prefix}-classify"

  function_arns = [var.serialize_image_data_arn, var.classify_image_arn, var.filter_inferences_arn]

  definition = templatefile("${path.module}/templates/classify.asl.json", {
    serialize_image_data_arn = var.serialize_image_data_arn
    classify_image_arn       = var.classify_image_arn
    filter_inferences_arn    = var.filter_inferences_arn
    table_name               = var.results_table_name
    review_queue_url         = var.review_queue_url
    threshold                = var.threshold
    # The template puts these inside JSON strings: encode them (quotes, backslashes) for JSON.
    model_name = trim(jsonencode(coalesce(var.model_name, "(none)")), "\"")
    model_data = trim(jsonencode(coalesce(var.model_data_url, "(none)")), "\"")
  })
}
