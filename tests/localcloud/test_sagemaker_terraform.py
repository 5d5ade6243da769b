"""infra/modules/model_endpoint (AWS provider 5.100) on the local cloud: apply, no drift, roll."""

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

from localcloud.testing import RunningCloud
from scripts.offline_plan import cli_config
from tests.support.prereq import require
from tests.support.stand_in_kit import cloud_serving
from training.registry import delete_packages

pytestmark = [pytest.mark.slow, pytest.mark.terraform]

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sagemaker_endpoint"
BUCKET = "drift-bucket"
ENDPOINTS = ("drift-endpoint", "drift-serverless-endpoint")  # the module's <name_prefix>-endpoint
GROUPS = ("drift-models", "drift-serverless-models")  # its <name_prefix>-models
IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"

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


def copy_fixture(destination: Path) -> Path:
    """The fixture root and infra/modules, at the same relative places the module source uses."""
    ignore = shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.*", ".terraform.lock.hcl")
    shutil.copytree(
        REPO_ROOT / "infra" / "modules", destination / "infra" / "modules", ignore=ignore
    )
    root = destination / FIXTURE.relative_to(REPO_ROOT)
    shutil.copytree(FIXTURE, root, ignore=ignore)
    return root


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

    def run(self, *args: str, version: int | None = None) -> subprocess.CompletedProcess[str]:
        variables = ["-var", f"endpoint={self.endpoint}"]
        if version is not None:
            variables += ["-var", f"model_version={version}"]
        command = ["terraform", *args, "-input=false", *(variables if args[0] != "init" else [])]
        return subprocess.run(
            command, cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=600
        )

    def apply(self, version: int | None) -> None:
        result = self.run("apply", "-auto-approve", version=version)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    def drift(self, version: int | None) -> str | None:
        """None when a plan proposes nothing; otherwise the plan's text."""
        result = self.run("plan", "-detailed-exitcode", "-no-color", version=version)
        assert result.returncode in (0, 2), result.stderr[-3000:]
        return None if result.returncode == 0 else result.stdout[-5000:]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    with cloud_serving(STAND_IN_INFERENCE, tmp_path_factory.mktemp("stand_in")) as running:
        s3 = running.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="a/model.tar.gz", Body=archive(0.25))
        s3.put_object(Bucket=BUCKET, Key="b/model.tar.gz", Body=archive(0.75))
        yield running


@pytest.fixture(scope="module")
def terraform(cloud: RunningCloud, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terraform]:
    require(shutil.which("terraform") is not None, "terraform is not on PATH")
    work = tmp_path_factory.mktemp("sagemaker_root")
    config = cli_config(work)
    require(config is not None, "no provider mirror (set TF_PLUGIN_MIRROR)")
    folder = copy_fixture(work)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **cloud.env(),  # the provider signs with the key this cloud issued
        "TF_CLI_CONFIG_FILE": str(config),
        "TF_IN_AUTOMATION": "1",
    }
    tf = Terraform(folder, env, cloud.endpoint_url)
    init = tf.run("init")
    assert init.returncode == 0, init.stderr
    yield tf
    sagemaker = cloud.client("sagemaker")
    for group in GROUPS:  # the packages are the tooling's: gone before the group can go
        delete_packages(sagemaker, group)
    destroyed = tf.run("destroy", "-auto-approve", version=2)
    assert destroyed.returncode == 0, destroyed.stdout[-3000:] + destroyed.stderr[-3000:]


def invoke(cloud: RunningCloud, endpoint: str = "drift-endpoint") -> Any:
    runtime = cloud.client("sagemaker-runtime")
    response = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="image/png", Body=b"\x89PNG"
    )
    return json.loads(response["Body"].read())


def register(cloud: RunningCloud, key: str) -> None:
    """A version of each group serving s3://BUCKET/<key>, as `make train` registers one."""
    sagemaker = cloud.client("sagemaker")
    for group in GROUPS:
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/{key}"}],
                "SupportedContentTypes": ["image/png"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            ModelApprovalStatus="Approved",
        )


def test_apply_then_plan_shows_no_drift_and_a_new_package_rolls_the_endpoint(
    cloud: RunningCloud, terraform: Terraform
) -> None:
    terraform.apply(None)  # the roles and the groups, before any model
    assert terraform.drift(None) is None
    register(cloud, "a/model.tar.gz")
    terraform.apply(1)
    assert invoke(cloud) == [0.75, 0.25]
    assert invoke(cloud, "drift-serverless-endpoint") == [0.75, 0.25]
    assert terraform.drift(1) is None
    # Only the provisioned variant scales; the serverless one has no instance count.
    scaling = cloud.client("application-autoscaling")
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert target["ResourceId"] == "endpoint/drift-endpoint/variant/AllTraffic"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 3)
    assert scaling.list_tags_for_resource(ResourceARN=target["ScalableTargetARN"])["Tags"] == {
        "project": "scones"
    }

    register(cloud, "b/model.tar.gz")
    terraform.apply(2)  # new package → new model → new config (create_before_destroy) → update
    sagemaker = cloud.client("sagemaker")
    for name in ENDPOINTS:
        assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
    assert invoke(cloud) == [0.25, 0.75]
    assert terraform.drift(2) is None
    # A rollout changes only the model: the variant stays registered, as AWS allows.
    (kept,) = scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert kept["ScalableTargetARN"] == target["ScalableTargetARN"]
    model = sagemaker.describe_model(ModelName=sagemaker.list_models()["Models"][0]["ModelName"])
    assert set(model["PrimaryContainer"]) <= {"ModelPackageName", "Mode"}
