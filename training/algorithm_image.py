"""The built-in Image Classification algorithm's ECR image URI for a region."""

from __future__ import annotations

from training.errors import UnknownRegionError

REPOSITORY = "image-classification"
TAG = "1"

# Registry accounts of the built-in image-classification image (version 1, training and
# inference alike), per region: the 37 regions of the SageMaker guide's "Docker Registry Paths
# and Example Code" table, as the SageMaker Python SDK carries it in
# sagemaker-core/src/sagemaker/core/image_uri_config/image-classification.json
# (github.com/aws/sagemaker-python-sdk, commit a24812666d25, 2026-08-21). Newer regions: --image.
REGISTRY_ACCOUNTS: dict[str, str] = {
    "af-south-1": "455444449433",
    "ap-east-1": "286214385809",
    "ap-northeast-1": "501404015308",
    "ap-northeast-2": "306986355934",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "991648021394",
    "ap-south-2": "628508329040",
    "ap-southeast-1": "475088953585",
    "ap-southeast-2": "544295431143",
    "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589",
    "ca-central-1": "469771592824",
    "ca-west-1": "190319476487",
    "cn-north-1": "390948362332",
    "cn-northwest-1": "387376663083",
    "eu-central-1": "813361260812",
    "eu-central-2": "680994064768",
    "eu-north-1": "669576153137",
    "eu-south-1": "257386234256",
    "eu-south-2": "104374241257",
    "eu-west-1": "685385470294",
    "eu-west-2": "644912444149",
    "eu-west-3": "749696950732",
    "il-central-1": "898809789911",
    "me-central-1": "272398656194",
    "me-south-1": "249704162688",
    "sa-east-1": "855470959533",
    "us-east-1": "811284229777",
    "us-east-2": "825641698319",
    "us-gov-east-1": "237065988967",
    "us-gov-west-1": "226302683700",
    "us-iso-east-1": "490574956308",
    "us-isob-east-1": "765400339828",
    "us-isof-east-1": "108575199400",
    "us-isof-south-1": "124985052026",
    "us-west-1": "632365934929",
    "us-west-2": "433757028032",
}

# ECR's DNS suffix where it is not amazonaws.com: the same SDK's ALTERNATE_DOMAINS
# (sagemaker-core/src/sagemaker/core/common_utils.py, same commit).
ALTERNATE_DOMAINS: dict[str, str] = {
    "cn-north-1": "amazonaws.com.cn",
    "cn-northwest-1": "amazonaws.com.cn",
    "us-iso-east-1": "c2s.ic.gov",
    "us-isob-east-1": "sc2s.sgov.gov",
    "us-isof-east-1": "csp.hci.ic.gov",
    "us-isof-south-1": "csp.hci.ic.gov",
}


def image_uri(region: str) -> str:
    """<account>.dkr.ecr.<region>.<domain>/image-classification:1."""
    account = REGISTRY_ACCOUNTS.get(region)
    if account is None:
        raise UnknownRegionError(
            f"no image-classification registry is known for region {region!r}; look it up in "
            "the SageMaker 'Docker Registry Paths' guide and pass --image URI"
        )
    domain = ALTERNATE_DOMAINS.get(region, "amazonaws.com")
    return f"{account}.dkr.ecr.{region}.{domain}/{REPOSITORY}:{TAG}"
