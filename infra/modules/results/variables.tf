variable "name_prefix" {
  description = "Prefix of every name (<project>-<env>); the table is <name_prefix>-results."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "account_id" {
  description = "AWS account ID; the key policy delegates to this account's IAM."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account ID."
  }
}

variable "eventbridge_rule_arns" {
  description = "EventBridge rules that may use the key to write their encrypted dead-letter queue."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.eventbridge_rule_arns : can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:rule/.+$", arn))])
    error_message = "eventbridge_rule_arns must be EventBridge rule ARNs."
  }
}

variable "key_user_role_arns" {
  description = "IAM roles that write the table and the review queue (the workflow's); the key policy lets them use the key through DynamoDB and SQS."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.key_user_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "key_user_role_arns must be IAM role ARNs."
  }
}

variable "deletion_protection" {
  description = "Refuse DeleteTable (and so `terraform destroy`) on the results table. On in prod."
  type        = bool
  default     = false
}

variable "key_deletion_window_days" {
  description = "Days KMS waits before deleting the key after `terraform destroy` (7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.key_deletion_window_days >= 7 && var.key_deletion_window_days <= 30
    error_message = "key_deletion_window_days must be between 7 and 30."
  }
}

variable "review_message_max_age_seconds" {
  description = "How long an unreviewed message stays in the review queue (60 s to 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.review_message_max_age_seconds >= 60 && var.review_message_max_age_seconds <= 1209600
    error_message = "review_message_max_age_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "review_visibility_timeout_seconds" {
  description = "How long a reviewer holds a message before it is offered again."
  type        = number
  default     = 900

  validation {
    condition     = var.review_visibility_timeout_seconds >= 0 && var.review_visibility_timeout_seconds <= 43200
    error_message = "review_visibility_timeout_seconds must be between 0 and 43200 (12 hours)."
  }
}

variable "review_max_receive_count" {
  description = "Receives after which a review message moves to the review DLQ (and alarms)."
  type        = number
  default     = 5

  validation {
    condition     = var.review_max_receive_count >= 1 && var.review_max_receive_count <= 1000
    error_message = "review_max_receive_count must be between 1 and 1000."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
