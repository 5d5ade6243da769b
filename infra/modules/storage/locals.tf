data "aws_partition" "this" {}

locals {
  # Built from the name so that the bucket policy is known at plan time (and shown in PR plans).
  bucket_arn = "arn:${data.aws_partition.this.partition}:s3:::${var.bucket_name}"
}
