"""The built-in Image Classification algorithm's ECR image URI for a region."""

from __future__ import annotations

from training.errors import UnknownRegionError

REPOSITORY = "image-classification"
TAG = "1"

# Registry accounts of the built-in image-classification image, per region, as listed in the
# SageMaker guide "Docker Registry Paths and Example Code" (the same table Terraform's
# aws_sagemaker_prebuilt_ecr_image data source carries). Newer regions: pass --image.
REGISTRY_ACCOUNTS: dict[str, str] = {
    "af-south-1": "455444449433",
    "ap-east-1": "286214385809",
    "ap-northeast-1": "501404015308",
    "ap-northeast-2": "306986355934",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "991648021394",
    "ap-southeast-1": "475088953585",
    "ap-southeast-2": "544295431143",
    "ca-central-1": "469771592824",
    "cn-north-1": "390948362332",
    "cn-northwest-1": "387376663083",
    "eu-central-1": "813361260812",
    "eu-north-1": "669576153137",
    "eu-south-1": "257386234256",
    "eu-west-1": "685385470294",
    "eu-west-2": "644912444149",
    "eu-west-3": "749696950732",
    "me-south-1": "249704162688",
    "sa-east-1": "855470959533",
    "us-east-1": "811284229777",
    "us-east-2": "825641698319",
    "us-gov-west-1": "226302683700",
    "us-west-1": "632365934929",
    "us-west-2": "433757028032",
}


def image_uri(region: str) -> str:
    """<account>.dkr.ecr.<region>.<domain>/image-classification:1."""
    account = REGISTRY_ACCOUNTS.get(region)
    if account is None:
        raise UnknownRegionError(
            f"no image-classification registry is known for region {region!r}; look it up in "
            "the SageMaker 'Docker Registry Paths' guide and pass --image URI"
        )
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/{REPOSITORY}:{TAG}"
