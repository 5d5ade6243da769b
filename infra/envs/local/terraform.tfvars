environment   = "local"
account_id    = "123456789012" # moto's default account
bucket_name   = "scones-local"
force_destroy = true

image_read_prefixes = ["test", "incoming"]
threshold           = 0.93

log_retention_days = 7
workflow_log_level = "ALL"
# STANDARD here: the local cloud's DescribeExecution and GetExecutionHistory show every state of
# a failed image, a failed execution can be redriven, and make classify PREFIX= --per-image and
# make bench follow executions by DescribeExecution. Express runs here too (tests create one).
workflow_type = "STANDARD"
# No state data in the logs: it holds the base64 image between two states.
workflow_include_execution_data = false

# Quality gate of `make train` (test-split accuracy; the committed model scores 0.93).
min_accuracy = 0.85

endpoint_instance_type  = "ml.m5.large"
endpoint_instance_count = 1
# Registered with the local cloud's Application Auto Scaling, which accepts but never acts.
endpoint_autoscaling = {
  min_capacity                    = 1
  max_capacity                    = 2
  target_invocations_per_instance = 600
}
data_capture_sampling_percentage = 100
data_capture_expiration_days     = 7

# Alarms: the local cloud sends no email, so no subscriptions.
endpoint_5xx_alarm_threshold     = 1
model_latency_alarm_threshold_ms = 1000
needs_review_share_threshold     = 0.3

# Guarded rollout of a new model: a short bake, so a local `make apply` of a new model takes
# seconds (the local cloud evaluates the alarms on every datapoint, CloudWatch every period).
endpoint_rollout_wait_seconds = 10
# Half of the one instance's traffic goes to the new model first.
endpoint_rollout_canary_size = {
  type  = "CAPACITY_PERCENT"
  value = 50
}

# Batches (make classify PREFIX=): the local cloud runs up to 8 workers per function.
batch_max_concurrency              = 8
batch_tolerated_failure_percentage = 5
