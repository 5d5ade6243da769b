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
