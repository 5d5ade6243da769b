locals {
  name = "${var.name_prefix}-classify"
  arn  = "arn:${data.aws_partition.this.partition}:states:${data.aws_region.this.name}:${var.account_id}:stateMachine:${local.name}"

  function_arns = [var.serialize_image_data_arn, var.classify_image_arn, var.filter_inferences_arn]

  rendered = templatefile("${path.module}/templates/classify.asl.json", {
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

  # The template's TimeoutSeconds (900 s) is the Standard machine's. An Express execution runs
  # at most 5 minutes (https://docs.aws.amazon.com/step-functions/latest/dg/
  # concepts-standard-vs-express.html): there the machine times out at 300 s, its limit, so the
  # timeout is the definition's, States.Timeout, and not the service's cut-off.
  express_timeout_seconds = 300
  definition = var.workflow_type == "EXPRESS" ? jsonencode(merge(jsondecode(local.rendered), {
    TimeoutSeconds = local.express_timeout_seconds
  })) : local.rendered
}

# The batch machine: one Distributed Map over a prefix whose item processor is the per-image
# definition above (its States, unchanged) behind four states that pick what to classify. One
# definition, not a copy: a change to the per-image workflow reaches both machines.
locals {
  batch_name = "${var.name_prefix}-classify-batch"
  batch_arn  = "arn:${data.aws_partition.this.partition}:states:${data.aws_region.this.name}:${var.account_id}:stateMachine:${local.batch_name}"
  per_image  = jsondecode(local.definition)

  # Choice's StringMatches is case-sensitive: both spellings of each extension.
  image_key_patterns = flatten([for ext in ["png", "jpg", "jpeg"] : ["*.${ext}", "*.${upper(ext)}"]])

  # The per-image template's backoff: 1 s doubling to at most 10 s, 3 attempts, full jitter.
  retry_backoff = {
    IntervalSeconds = 1
    MaxAttempts     = 3
    BackoffRate     = 2
    MaxDelaySeconds = 10
    JitterStrategy  = "FULL"
  }

  dynamodb_transient = [
    "DynamoDB.ProvisionedThroughputExceededException",
    "DynamoDB.ThrottlingException",
    "DynamoDB.RequestLimitExceeded",
    "DynamoDB.InternalServerErrorException",
    "DynamoDB.AmazonDynamoDBException",
  ]

  batch_item_states = {
    CheckImageKey = {
      Type    = "Choice"
      Comment = "Keys that do not end in .png, .jpg or .jpeg are skipped without a read: the batch lists a prefix, and a prefix holds what people put there."
      Choices = [{
        Or   = [for pattern in local.image_key_patterns : { Variable = "$.s3_key", StringMatches = pattern }]
        Next = "ReadVersion"
      }]
      Default = "NotAnImage"
    }
    NotAnImage = {
      Type = "Pass"
      Parameters = {
        "s3_bucket.$" = "$.s3_bucket"
        "s3_key.$"    = "$.s3_key"
        status        = "skipped"
        reason        = "not_an_image"
      }
      End = true
    }
    ReadVersion = {
      Type    = "Task"
      Comment = "ListObjectsV2 names keys, not versions: the version this run classifies is the one HeadObject sees now."
      # https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html
      Resource       = "arn:aws:states:::aws-sdk:s3:headObject"
      TimeoutSeconds = 30
      Parameters     = { Bucket = var.bucket_name, "Key.$" = "$.s3_key" }
      ResultSelector = { "version.$" = "$.VersionId" }
      ResultPath     = "$.head"
      Retry = [merge(local.retry_backoff, {
        ErrorEquals = ["S3.SdkClientException", "S3.InternalErrorException", "S3.ServiceUnavailableException", "S3.SlowDownException"]
      })]
      Catch = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.step", Next = "Unreadable" }]
      Next  = "LookUpResult"
    }
    Unreadable = {
      Type      = "Fail"
      Comment   = "The key vanished after the listing, or cannot be read: the item fails, with S3's error, and counts against the tolerated failures."
      ErrorPath = "$.step.Error"
      CausePath = "$.step.Cause"
    }
    LookUpResult = {
      Type           = "Task"
      Comment        = "A consistent read of this version's item: classified and needs_review are done; failed and absent are (re)classified."
      Resource       = "arn:aws:states:::dynamodb:getItem"
      TimeoutSeconds = 30
      Parameters = {
        TableName                = var.results_table_name
        Key                      = { s3_key = { "S.$" = "$.s3_key" }, version = { "S.$" = "$.head.version" } }
        ProjectionExpression     = "#status"
        ExpressionAttributeNames = { "#status" = "status" }
        ConsistentRead           = true
      }
      ResultPath = "$.existing"
      Retry      = [merge(local.retry_backoff, { ErrorEquals = local.dynamodb_transient })]
      Catch      = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.step", Next = "Unreadable" }]
      Next       = "SkipOrClassify"
    }
    SkipOrClassify = {
      Type = "Choice"
      Choices = [{
        And = [
          { Variable = "$.existing.Item.status.S", IsPresent = true },
          { Or = [
            { Variable = "$.existing.Item.status.S", StringEquals = "classified" },
            { Variable = "$.existing.Item.status.S", StringEquals = "needs_review" },
          ] },
        ]
        Next = "AlreadyDone"
      }]
      Default = "ClassifyVersion"
    }
    AlreadyDone = {
      Type = "Pass"
      Parameters = {
        "s3_bucket.$"  = "$.s3_bucket"
        "s3_key.$"     = "$.s3_key"
        "s3_version.$" = "$.head.version"
        status         = "skipped"
        "reason.$"     = "$.existing.Item.status.S"
      }
      End = true
    }
    ClassifyVersion = {
      Type    = "Pass"
      Comment = "The per-image workflow's input, exactly as the ingest rule sends it."
      Parameters = {
        "s3_bucket.$"  = "$.s3_bucket"
        "s3_key.$"     = "$.s3_key"
        "s3_version.$" = "$.head.version"
      }
      Next = local.per_image.StartAt
    }
  }

  batch_definition = jsonencode({
    Comment = "Scones Unlimited vehicle classifier, a prefix: lists it (ListObjectsV2), and runs every image key that has no classified or needs_review item for its current version through the per-image workflow's states, in Express child executions. The manifest and result files go to s3://${var.bucket_name}/${var.batch_results_prefix}/<map run id>/."
    StartAt = "CheckBatchInput"
    States = {
      CheckBatchInput = {
        Type = "Choice"
        Choices = [{
          And = [
            { Variable = "$.prefix", IsString = true },
            { Or = [for p in var.batch_read_prefixes : { Variable = "$.prefix", StringMatches = "${p}/*" }] },
          ]
          Next = "ClassifyPrefix"
        }]
        Default = "InvalidBatchInput"
      }
      InvalidBatchInput = {
        Type  = "Fail"
        Error = "InvalidBatchInput"
        Cause = "The batch's input must be an object with a string prefix under one of ${join(", ", [for p in var.batch_read_prefixes : "${p}/"])} (the prefixes this machine may list), as make classify PREFIX= sends it."
      }
      ClassifyPrefix = {
        Type = "Map"
        ItemReader = {
          Resource   = "arn:aws:states:::s3:listObjectsV2"
          Parameters = { Bucket = var.bucket_name, "Prefix.$" = "$.prefix" }
        }
        ItemSelector = {
          s3_bucket  = var.bucket_name
          "s3_key.$" = "$$.Map.Item.Value.Key"
        }
        MaxConcurrency             = var.batch_max_concurrency
        ToleratedFailurePercentage = var.batch_tolerated_failure_percentage
        ItemProcessor = {
          ProcessorConfig = { Mode = "DISTRIBUTED", ExecutionType = "EXPRESS" }
          StartAt         = "CheckImageKey"
          States          = merge(local.batch_item_states, local.per_image.States)
        }
        ResultWriter = {
          Resource   = "arn:aws:states:::s3:putObject"
          Parameters = { Bucket = var.bucket_name, Prefix = var.batch_results_prefix }
        }
        End = true
      }
    }
  })
}
