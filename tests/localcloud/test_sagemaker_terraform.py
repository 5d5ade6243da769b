"""Terraform (AWS provider 5.100) over the SageMaker parts: apply, no drift, roll the model."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud import sagemaker_endpoints
from localcloud.testing import RunningCloud, running_local_cloud
from tests.support.prereq import require

pytestmark = [pytest.mark.slow, pytest.mark.terraform]

MIRROR_CANDIDATES = (Path("/opt/tf-plugins"), Path.home() / ".terraform.d" / "plugins")
BUCKET = "drift-bucket"

# What infra/modules/model_endpoint declares, cut to the SageMaker resources, plus a serverless
# configuration: the shapes whose describe responses moto gets wrong.
ROOT = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.100.0" }
  }
}

variable "endpoint" { type = string }
variable "artifact" { type = string }

provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true
  max_retries                 = 2
  endpoints {
    s3        = var.endpoint
    sagemaker = var.endpoint
    sts       = var.endpoint
  }
}

data "aws_sagemaker_prebuilt_ecr_image" "this" {
  repository_name = "image-classification"
  image_tag       = "1"
}

resource "aws_sagemaker_model" "this" {
  name                     = "drift-model-${substr(sha1(var.artifact), 0, 8)}"
  execution_role_arn       = "arn:aws:iam::123456789012:role/sagemaker"
  enable_network_isolation = true
  primary_container {
    image          = data.aws_sagemaker_prebuilt_ecr_image.this.registry_path
    model_data_url = var.artifact
  }
  tags = { project = "scones" }
  lifecycle { create_before_destroy = true }
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  name_prefix = "drift-"
  production_variants {
    variant_name           = "AllTraffic"
    model_name             = aws_sagemaker_model.this.name
    initial_variant_weight = 1
    instance_type          = "ml.m5.large"
    initial_instance_count = 1
  }
  data_capture_config {
    enable_capture              = true
    initial_sampling_percentage = 100
    destination_s3_uri          = "s3://drift-bucket/capture"
    capture_options { capture_mode = "Input" }
    capture_options { capture_mode = "Output" }
    capture_content_type_header { json_content_types = ["application/json"] }
  }
  tags = { project = "scones" }
  lifecycle { create_before_destroy = true }
}

resource "aws_sagemaker_endpoint_configuration" "serverless" {
  name_prefix = "drift-serverless-"
  production_variants {
    variant_name           = "AllTraffic"
    model_name             = aws_sagemaker_model.this.name
    initial_variant_weight = 1
    serverless_config {
      memory_size_in_mb = 2048
      max_concurrency   = 2
    }
  }
  tags = { project = "scones" }
  lifecycle { create_before_destroy = true }
}

resource "aws_sagemaker_endpoint" "this" {
  name                 = "drift-endpoint"
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this.name
  tags                 = { project = "scones" }
}
"""

STAND_IN_INFERENCE = """
import json
from pathlib import Path

class StandIn:
    def __init__(self, bias):
        self.bias = bias

    def predict(self, body, content_type):
        return [1.0 - self.bias, self.bias]

def load_model(model_dir):
    return StandIn(json.loads((Path(model_dir) / "model.json").read_text())["bias"])
"""


def find_mirror() -> Path | None:
    configured = os.environ.get("TF_PLUGIN_MIRROR")
    candidates = (Path(configured),) if configured else MIRROR_CANDIDATES
    return next(
        (c for c in candidates if (c / "registry.terraform.io" / "hashicorp" / "aws").is_dir()),
        None,
    )


def archive(bias: float) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = json.dumps({"bias": bias}).encode()
        info = tarfile.TarInfo("model.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Terraform:
    def __init__(self, folder: Path, env: dict[str, str], endpoint: str) -> None:
        self.folder, self.env, self.endpoint = folder, env, endpoint

    def run(self, *args: str, artifact: str | None = None) -> subprocess.CompletedProcess[str]:
        variables = ["-var", f"endpoint={self.endpoint}"]
        if artifact is not None:
            variables += ["-var", f"artifact={artifact}"]
        command = ["terraform", *args, "-input=false", *(variables if args[0] != "init" else [])]
        return subprocess.run(
            command, cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=600
        )

    def apply(self, artifact: str) -> None:
        result = self.run("apply", "-auto-approve", artifact=artifact)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    def drift(self, artifact: str) -> str | None:
        """None when a plan proposes nothing; otherwise the plan's text."""
        result = self.run("plan", "-detailed-exitcode", "-no-color", artifact=artifact)
        assert result.returncode in (0, 2), result.stderr[-3000:]
        return None if result.returncode == 0 else result.stdout[-5000:]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    script = tmp_path_factory.mktemp("stand_in") / "stand_in_inference.py"
    script.write_text(STAND_IN_INFERENCE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(sagemaker_endpoints.INFERENCE_MODULE_ENV, str(script))
        with running_local_cloud() as running:
            s3 = running.client("s3")
            s3.create_bucket(Bucket=BUCKET)
            s3.put_object(Bucket=BUCKET, Key="a/model.tar.gz", Body=archive(0.25))
            s3.put_object(Bucket=BUCKET, Key="b/model.tar.gz", Body=archive(0.75))
            yield running


@pytest.fixture(scope="module")
def terraform(cloud: RunningCloud, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terraform]:
    require(shutil.which("terraform") is not None, "terraform is not on PATH")
    mirror = find_mirror()
    require(mirror is not None, "no provider mirror (set TF_PLUGIN_MIRROR)")
    folder = tmp_path_factory.mktemp("sagemaker_root")
    (folder / "main.tf").write_text(ROOT)
    (folder / "terraformrc").write_text(
        "disable_checkpoint = true\nprovider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n'
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **cloud.env(),  # the provider signs with the key this cloud issued
        "TF_CLI_CONFIG_FILE": str(folder / "terraformrc"),
        "TF_IN_AUTOMATION": "1",
    }
    tf = Terraform(folder, env, cloud.endpoint_url)
    init = tf.run("init")
    assert init.returncode == 0, init.stderr
    yield tf
    tf.run("destroy", "-auto-approve", artifact=f"s3://{BUCKET}/b/model.tar.gz")


def invoke(cloud: RunningCloud) -> Any:
    runtime = cloud.client("sagemaker-runtime")
    response = runtime.invoke_endpoint(
        EndpointName="drift-endpoint", ContentType="image/png", Body=b"\x89PNG"
    )
    return json.loads(response["Body"].read())


def test_apply_then_plan_shows_no_drift_and_a_new_artifact_rolls_the_endpoint(
    cloud: RunningCloud, terraform: Terraform
) -> None:
    first = f"s3://{BUCKET}/a/model.tar.gz"
    terraform.apply(first)
    assert invoke(cloud) == [0.75, 0.25]
    assert terraform.drift(first) is None

    second = f"s3://{BUCKET}/b/model.tar.gz"
    terraform.apply(second)  # new model → new config (create_before_destroy) → UpdateEndpoint
    endpoint = cloud.client("sagemaker").describe_endpoint(EndpointName="drift-endpoint")
    assert endpoint["EndpointStatus"] == "InService"
    assert invoke(cloud) == [0.25, 0.75]
    assert terraform.drift(second) is None
