terraform {
  required_version = ">= 1.10"

  # State of the throwaway local cloud stays on this machine, under the git-ignored build/.
  backend "local" {
    path = "../../../build/terraform/local/terraform.tfstate"
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}
