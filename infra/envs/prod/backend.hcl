# Partial S3 backend configuration for prod, read by `scripts/tf.sh init prod`.
# Placeholders: replace the bucket with the account's state bucket (versioned, encrypted,
# created outside this root). The lock is a .tflock object next to the state (use_lockfile).
bucket = "scones-terraform-state-CHANGE-ME"
key    = "scones-vehicle-classifier/prod/terraform.tfstate"
region = "us-east-1"
