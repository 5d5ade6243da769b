# Partial S3 backend configuration for dev, read by `scripts/tf.sh init dev`.
# Placeholders: replace the bucket with the account's state bucket (versioned, encrypted,
# created outside this root). The lock is a .tflock object next to the state (use_lockfile).
bucket = "scones-terraform-state-CHANGE-ME"
key    = "scones-vehicle-classifier/dev/terraform.tfstate"
region = "us-east-1"
