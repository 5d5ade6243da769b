terraform {
  required_version = ">= 1.10"

  # Bucket, key and region come from backend.hcl (`scripts/tf.sh init dev`).
  backend "s3" {
    use_lockfile = true
    encrypt      = true
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}
