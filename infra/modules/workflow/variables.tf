variable "name_prefix" {
  description = "Prefix of every name, e.g. `scones-dev`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "serialize_image_data_arn" {
  description = "ARN of the serializeImageData function (first state)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", var.serialize_image_data_arn))
    error_message = "serialize_image_data_arn must be an unqualified Lambda function ARN."
  }
}

variable "classify_image_arn" {
  description = "ARN of the classifyImage function (second state)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", var.classify_image_arn))
    error_message = "classify_image_arn must be an unqualified Lambda function ARN."
  }
}

variable "filter_inferences_arn" {
  description = "ARN of the filterInferences function (last state)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", var.filter_inferences_arn))
    error_message = "filter_inferences_arn must be an unqualified Lambda function ARN."
  }
}

variable "results_table_name" {
  description = "Results table the workflow writes one item per object version to."
  type        = string
}

variable "results_table_arn" {
  description = "ARN of the results table (the role may PutItem there and nowhere else)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+$", var.results_table_arn))
    error_message = "results_table_arn must be a DynamoDB table ARN."
  }
}

variable "review_queue_url" {
  description = "URL of the SQS queue an unsure image is sent to for a human look."
  type        = string
}

variable "review_queue_arn" {
  description = "ARN of the review queue (the role may SendMessage there and nowhere else)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.review_queue_arn))
    error_message = "review_queue_arn must be an SQS queue ARN."
  }
}

variable "threshold" {
  description = "Confidence threshold filterInferences applies; recorded with every answer and in each review message."
  type        = number

  # The same rule and message as the functions module's: the template renders it as a number.
  validation {
    condition     = var.threshold > 0 && var.threshold <= 1
    error_message = "threshold must be in (0, 1]."
  }
}

variable "model_name" {
  description = "SageMaker model behind the endpoint, recorded with every answer; null before the first model."
  type        = string
  default     = null
}

variable "model_data_url" {
  description = "S3 URI of the model artifact, recorded with every answer; null before the first model."
  type        = string
  default     = null
}

variable "workflow_type" {
  description = "Type of the per-image state machine: STANDARD (exactly once, up to a year, history kept 90 days and readable with DescribeExecution) or EXPRESS (at least once, at most 5 minutes, history only in the log group, billed per request and duration)."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.workflow_type)
    error_message = "workflow_type must be STANDARD or EXPRESS."
  }
}

variable "log_level" {
  description = "Execution history sent to CloudWatch Logs: ALL, ERROR, FATAL or OFF. An EXPRESS workflow has no other history, so it needs ALL or ERROR."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.log_level)
    error_message = "log_level must be ALL, ERROR, FATAL or OFF."
  }
}

variable "include_execution_data" {
  description = "Include state input and output (base64 images) in the execution logs."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the execution log group, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the CloudWatch Logs retention values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "tracing_enabled" {
  description = "Send X-Ray traces of executions."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}

variable "account_id" {
  description = "AWS account ID, for the batch machine's own ARN in its policy (known at plan time)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "bucket_name" {
  description = "Bucket whose prefixes the batch machine lists and whose batch-results/ it writes."
  type        = string
}

variable "batch_read_prefixes" {
  description = "Key prefixes (without a slash) the batch machine may list and read: the prefixes serializeImageData may read."
  type        = list(string)

  validation {
    condition     = length(var.batch_read_prefixes) > 0 && alltrue([for p in var.batch_read_prefixes : can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", p))])
    error_message = "batch_read_prefixes must be one or more key prefixes without leading or trailing slashes."
  }
}

variable "batch_results_prefix" {
  description = "Key prefix (without a slash) under which each batch run's ResultWriter manifest and result files go, as <prefix>/<map run id>/."
  type        = string
  default     = "batch-results"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+$", var.batch_results_prefix))
    error_message = "batch_results_prefix must be one path segment of safe key characters."
  }
}

variable "batch_max_concurrency" {
  description = "Child executions a batch runs at once (Distributed Map MaxConcurrency, 1-10000). Bounded by what the endpoint and classifyImage's reserved concurrency absorb."
  type        = number
  default     = 40

  validation {
    condition     = var.batch_max_concurrency >= 1 && var.batch_max_concurrency <= 10000 && floor(var.batch_max_concurrency) == var.batch_max_concurrency
    error_message = "batch_max_concurrency must be a whole number from 1 to 10000."
  }
}

variable "batch_tolerated_failure_percentage" {
  description = "Share of a batch's items, in percent (0-100), that may fail before the run fails with States.ExceedToleratedFailureThreshold."
  type        = number
  default     = 5

  validation {
    condition     = var.batch_tolerated_failure_percentage >= 0 && var.batch_tolerated_failure_percentage <= 100
    error_message = "batch_tolerated_failure_percentage must be from 0 to 100."
  }
}
