environment = "prod"
account_id  = "111111111111"                            # placeholder: the environment's AWS account
bucket_name = "scones-prod-vehicle-classifier-changeme" # placeholder: globally unique

image_read_prefixes = ["incoming"]
threshold           = 0.93

log_retention_days = 365
workflow_log_level = "ERROR"

endpoint_instance_type           = "ml.m5.large"
endpoint_instance_count          = 2
data_capture_sampling_percentage = 20
data_capture_expiration_days     = 90

# Alarms. Low-confidence images end in ThresholdConfidenceNotMet (a failed execution and a
# filterInferences error) by design: the thresholds leave room for them.
alarm_emails                     = [] # placeholder: the on-call address(es)
workflow_failed_alarm_threshold  = 10
lambda_errors_alarm_threshold    = 10
endpoint_5xx_alarm_threshold     = 1
model_latency_alarm_threshold_ms = 500
