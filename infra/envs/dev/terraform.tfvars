environment = "dev"
account_id  = "111111111111"                           # placeholder: the environment's AWS account
bucket_name = "scones-dev-vehicle-classifier-changeme" # placeholder: globally unique

image_read_prefixes = ["test", "incoming"]
threshold           = 0.93

log_retention_days = 14
workflow_log_level = "ALL"

endpoint_instance_type           = "ml.m5.large"
endpoint_instance_count          = 1
data_capture_sampling_percentage = 100
data_capture_expiration_days     = 30

# Alarms. Low-confidence images end in ThresholdConfidenceNotMet (a failed execution and a
# filterInferences error) by design: the thresholds leave room for them.
alarm_emails                     = [] # e.g. ["ml-team@example.com"]
workflow_failed_alarm_threshold  = 5
lambda_errors_alarm_threshold    = 5
endpoint_5xx_alarm_threshold     = 5
model_latency_alarm_threshold_ms = 2000
