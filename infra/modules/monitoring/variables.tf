variable "name_prefix" {
  description = "Prefix of every name, e.g. `scones-dev`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "account_id" {
  description = "AWS account ID of the environment; the key policy, the topic policy and the alarm ARNs on the dashboard are built from it."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "state_machine_name" {
  description = "Name of the classification state machine; the module builds its ARN (the StateMachineArn dimension of AWS/States) so that alarms and dashboard are known at plan time."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,80}$", var.state_machine_name))
    error_message = "state_machine_name must be 1-80 letters, digits, hyphens and underscores."
  }
}

variable "function_names" {
  description = "Lambda function names by key (the FunctionName dimension of AWS/Lambda); one errors alarm and one line per chart for each."
  type        = map(string)

  validation {
    condition     = length(var.function_names) > 0 && alltrue([for k, n in var.function_names : can(regex("^[a-z][a-z0-9_]*$", k)) && can(regex("^[A-Za-z0-9_-]{1,64}$", n))])
    error_message = "function_names must map snake_case keys to Lambda function names (1-64 letters, digits, hyphens, underscores)."
  }
}

variable "endpoint_name" {
  description = "Name of the SageMaker endpoint (the EndpointName dimension of AWS/SageMaker)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$", var.endpoint_name))
    error_message = "endpoint_name must be a SageMaker endpoint name (letters, digits and hyphens, at most 63)."
  }
}

variable "enable_dashboard" {
  description = "Create the overview dashboard. CloudWatch bills $3 a month per dashboard beyond the account's free three: an idle dev environment may go without."
  type        = bool
  default     = true
}

variable "enable_endpoint_monitoring" {
  description = "Add the endpoint's alarms (5xx errors, model latency) and dashboard widgets. The roots set it when the endpoint exists (model_package_arn set); it must be known at plan time."
  type        = bool
  default     = false
}

variable "variant_name" {
  description = "Production variant of the endpoint (the VariantName dimension of AWS/SageMaker)."
  type        = string
  default     = "AllTraffic"

  validation {
    condition     = can(regex("^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$", var.variant_name))
    error_message = "variant_name must be a SageMaker variant name (letters, digits and hyphens, at most 63)."
  }
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the alarm topic. Each must confirm the subscription from the message AWS sends; Terraform cannot delete a subscription still pending."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_emails must be email addresses."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key that encrypts the alarm topic; its policy must let cloudwatch.amazonaws.com use it (GenerateDataKey*, Decrypt). Null creates such a key. The AWS managed key alias/aws/sns does not work: CloudWatch cannot publish to a topic encrypted with it."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN."
  }
}

variable "alarm_period_seconds" {
  description = "Period over which every alarm evaluates its metric, in seconds (60 or a multiple of 60)."
  type        = number
  default     = 300

  validation {
    condition     = var.alarm_period_seconds >= 60 && var.alarm_period_seconds <= 86400 && var.alarm_period_seconds % 60 == 0
    error_message = "alarm_period_seconds must be a multiple of 60 from 60 to 86400."
  }
}

variable "alarm_evaluation_periods" {
  description = "Consecutive periods a metric must breach before an alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.alarm_evaluation_periods >= 1 && var.alarm_evaluation_periods <= 24 && floor(var.alarm_evaluation_periods) == var.alarm_evaluation_periods
    error_message = "alarm_evaluation_periods must be a whole number from 1 to 24."
  }
}

variable "workflow_failed_threshold" {
  description = "Failed workflow executions (ExecutionsFailed, sum per period) at which the alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.workflow_failed_threshold >= 1 && floor(var.workflow_failed_threshold) == var.workflow_failed_threshold
    error_message = "workflow_failed_threshold must be a whole number of at least 1."
  }
}

variable "lambda_errors_threshold" {
  description = "Errors of one function (Errors, sum per period) at which its alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.lambda_errors_threshold >= 1 && floor(var.lambda_errors_threshold) == var.lambda_errors_threshold
    error_message = "lambda_errors_threshold must be a whole number of at least 1."
  }
}

variable "endpoint_5xx_threshold" {
  description = "Endpoint 5xx errors (Invocation5XXErrors, sum per period) at which the alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.endpoint_5xx_threshold >= 1 && floor(var.endpoint_5xx_threshold) == var.endpoint_5xx_threshold
    error_message = "endpoint_5xx_threshold must be a whole number of at least 1."
  }
}

variable "model_latency_threshold_ms" {
  description = "Model latency in milliseconds above which the latency alarm fires (ModelLatency is reported in microseconds; the module converts)."
  type        = number
  default     = 1000

  validation {
    condition     = var.model_latency_threshold_ms > 0 && var.model_latency_threshold_ms <= 60000
    error_message = "model_latency_threshold_ms must be greater than 0 and at most 60000 (the endpoint's invocation timeout)."
  }
}

variable "model_latency_statistic" {
  description = "Statistic of ModelLatency the latency alarm compares: Average, Maximum, or a percentile such as p90 or p99.9."
  type        = string
  default     = "p90"

  validation {
    condition     = contains(["Average", "Maximum"], var.model_latency_statistic) || can(regex("^p([1-9][0-9]?|[1-9]?[0-9]\\.[0-9]{1,2})$", var.model_latency_statistic))
    error_message = "model_latency_statistic must be Average, Maximum or a percentile p0.1-p99.99."
  }
}

variable "dashboard_period_seconds" {
  description = "Period of the dashboard's charts, in seconds."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 300, 900, 3600, 21600, 86400], var.dashboard_period_seconds)
    error_message = "dashboard_period_seconds must be one of 60, 300, 900, 3600, 21600, 86400."
  }
}

variable "functions_with_business_errors" {
  description = "Keys of function_names whose errors are expected outcomes (filterInferences' ThresholdConfidenceNotMet): charted, but no errors alarm."
  type        = set(string)
  default     = []
}

variable "dead_letter_queues" {
  description = "Dead-letter queues that alarm when they hold a message, by purpose (e.g. ingest, review)."
  type        = map(string)
  default     = {}
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the Embedded Metric Format metrics filterInferences logs (dimension Service = name_prefix)."
  type        = string
  default     = "SconesUnlimited/Classifier"
}

variable "needs_review_share_threshold" {
  description = "Share (0-1) of the images decided in an hour that needed review, above which the drift alarm fires."
  type        = number
  default     = 0.3

  validation {
    condition     = var.needs_review_share_threshold > 0 && var.needs_review_share_threshold < 1
    error_message = "needs_review_share_threshold must be between 0 and 1 (exclusive)."
  }
}

variable "needs_review_min_samples" {
  description = "Decisions in the hour below which the drift alarm stays quiet (a share of 1 in 2 is not drift)."
  type        = number
  default     = 20

  validation {
    condition     = var.needs_review_min_samples >= 1 && floor(var.needs_review_min_samples) == var.needs_review_min_samples
    error_message = "needs_review_min_samples must be a whole number of at least 1."
  }
}

variable "tags" {
  description = "Tags for every resource of the module that takes tags (dashboards take none)."
  type        = map(string)
  default     = {}
}
