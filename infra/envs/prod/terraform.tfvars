environment = "prod"
account_id  = "111111111111"                            # placeholder: the environment's AWS account
bucket_name = "scones-prod-vehicle-classifier-changeme" # placeholder: globally unique
# S3 server access logs of that bucket: the account's log bucket (SSE-S3, same region), or null.
access_log_bucket_name = null

image_read_prefixes = ["incoming"]
threshold           = 0.93

log_retention_days = 365
workflow_log_level = "ERROR"
# EXPRESS: each image is an event-driven run of seconds, far under Express's 5 minutes, and
# costs about $0.003 per 1,000 images instead of Standard's transitions (README, "Workflow
# type"). At-least-once runs are safe: every results write is conditional, one item per object
# version. ERROR keeps the failed states' errors and causes in the log group.
workflow_type = "EXPRESS"
# No state data in the logs: it holds the base64 image between two states.
workflow_include_execution_data = false

# Quality gate of `make train` (test-split accuracy; the committed model scores 0.93).
min_accuracy = 0.92

endpoint_instance_type  = "ml.m5.large"
endpoint_instance_count = 2
# Scales between 2 and 4 instances on invocations per instance per minute (an ml.m5.large
# answers about 2 requests at once at ~100 ms each: ~1200 a minute; the target is half that).
# Model rollouts keep it registered; an instance type change needs it off first (README).
endpoint_autoscaling = {
  min_capacity                    = 2
  max_capacity                    = 4
  target_invocations_per_instance = 600
}
# Guarded rollout of a new model: a quarter of the new fleet takes traffic first, then each step
# bakes 10 minutes under the 5xx and model-latency alarms (README, "From training to prod").
endpoint_rollout_wait_seconds = 600
endpoint_rollout_canary_size = {
  type  = "CAPACITY_PERCENT"
  value = 25
}
data_capture_sampling_percentage = 20
data_capture_expiration_days     = 90

# Alarms. A failed execution is a fault (an unsure image succeeds as needs_review), so the
# workflow alarms at 1 everywhere; the drift alarm watches the share of needs_review instead.
alarm_emails                     = [] # placeholder: the on-call address(es)
endpoint_5xx_alarm_threshold     = 1
model_latency_alarm_threshold_ms = 500
needs_review_share_threshold     = 0.25

# The results table is what routing reads: no destroy removes it by accident.
results_deletion_protection = true

# Batches (make classify PREFIX=): two instances; a prefix of drivers' photos with more than
# 1 % failures is a fault to look at, not to push through.
batch_max_concurrency              = 40
batch_tolerated_failure_percentage = 1
