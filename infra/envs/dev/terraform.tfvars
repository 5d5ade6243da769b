environment = "dev"
account_id  = "111111111111"                           # placeholder: the environment's AWS account
bucket_name = "scones-dev-vehicle-classifier-changeme" # placeholder: globally unique
# S3 server access logs of that bucket: the account's log bucket (SSE-S3, same region), or null.
access_log_bucket_name = null

image_read_prefixes = ["test", "incoming"]
threshold           = 0.93

log_retention_days = 14
workflow_log_level = "ALL"
# EXPRESS, as prod: dev is where prod's configuration is proven, and Express changes what an
# operator can see (no DescribeExecution; history only in the log group, hence level ALL here).
workflow_type = "EXPRESS"
# No state data in the logs: it holds the base64 image between two states.
workflow_include_execution_data = false

# Quality gate of `make train` (test-split accuracy; the committed model scores 0.93).
min_accuracy = 0.9

# Serverless: nothing is billed while dev idles (README, "Cost"). SageMaker allows 1024-6144 MB
# in 1 GB steps and 1-200 concurrent invocations (API ProductionVariantServerlessConfig).
# Serverless endpoints capture no data: dev's monitoring report reads the results table.
endpoint_serverless_config = {
  memory_size_in_mb = 2048
  max_concurrency   = 10
}
enable_data_capture = false
# $3 a month, more than the rest of idle dev together; prod keeps its dashboard.
enable_dashboard = false

endpoint_instance_type  = "ml.m5.large" # unused while serverless
endpoint_instance_count = 1             # unused while serverless
# Guarded rollout (provisioned variants only; a serverless variant takes the new model at once).
endpoint_rollout_wait_seconds = 600 # unused while serverless
endpoint_rollout_canary_size = {    # unused while serverless
  type  = "CAPACITY_PERCENT"
  value = 25
}
data_capture_sampling_percentage = 100
data_capture_expiration_days     = 30

# Alarms. A failed execution is a fault (an unsure image succeeds as needs_review), so the
# workflow alarms at 1 everywhere; the drift alarm watches the share of needs_review instead.
alarm_emails                     = [] # e.g. ["ml-team@example.com"]
endpoint_5xx_alarm_threshold     = 5
model_latency_alarm_threshold_ms = 2000
needs_review_share_threshold     = 0.3

# Batches (make classify PREFIX=): no more at once than the serverless endpoint's
# max_concurrency; a few bad files in a test prefix should not stop the run.
batch_max_concurrency              = 10
batch_tolerated_failure_percentage = 5
