"""The quality gate and `make promote`, against the local cloud's model registry.

`make train` end to end: a tiny real training job through the local cloud, then the launcher
evaluates the artifact on the test split and registers it, Approved or Rejected by the gate.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud.testing import RunningCloud, running_local_cloud
from tests.training.test_local_trainer import synthetic_image
from training import launch, promote
from training.errors import TerraformOutputError
from training.upload import sync

pytestmark = pytest.mark.slow

ROLE = "arn:aws:iam::123456789012:role/scones-sagemaker"
BUCKET = "gate-bucket"
CLASSES = ("bicycle", "motorcycle")


def write_data(root: Path, per_class: dict[str, int], flipped_test: int) -> Path:
    """build/data's layout with synthetic images; the last flipped_test test rows per class
    carry the other class's label, so the test accuracy of a good model is about
    1 - flipped_test / per_class["test"]."""
    seed = 100
    for split, count in per_class.items():
        rows: list[str] = []
        for label, name in enumerate(CLASSES):
            for i in range(count):
                seed += 1
                relative = f"{name}/{split}_{name}_{i}.png"
                path = root / split / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                synthetic_image(label, seed).save(path)
                shown = 1 - label if split == "test" and i >= count - flipped_test else label
                rows.append(f"{len(rows)}\t{shown}\t{relative}\n")
        (root / f"{split}.lst").write_text("".join(rows))
    return root


@pytest.fixture(scope="module")
def cloud() -> Iterator[RunningCloud]:
    with running_local_cloud() as running:
        running.client("s3").create_bucket(Bucket=BUCKET)
        sagemaker = running.client("sagemaker")
        for env in ("dev", "prod"):
            sagemaker.create_model_package_group(ModelPackageGroupName=f"scones-{env}-models")
        yield running


@pytest.fixture(scope="module")
def data(cloud: RunningCloud, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 10 test images per class, 4 of them labelled wrong: a good model scores about 0.6.
    root = write_data(tmp_path_factory.mktemp("data"), {"train": 8, "validation": 2, "test": 10}, 4)
    sync(cloud.client("s3"), BUCKET, root, progress=False)
    return root


@pytest.fixture(scope="module")
def hyperparameters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "hyperparameters.json"
    config = {"image_shape": "3,32,32", "num_classes": 2, "epochs": 3, "learning_rate": 0.05,
              "mini_batch_size": 8, "augmentation_type": "crop"}  # fmt: skip
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def local_env(cloud: RunningCloud, monkeypatch: pytest.MonkeyPatch) -> RunningCloud:
    for name, value in cloud.env().items():
        monkeypatch.setenv(name, value)
    return cloud


def outputs(min_accuracy: float) -> Any:
    return lambda env, envs_dir: {"model_package_group_name": f"scones-{env}-models",
                                  "min_accuracy": min_accuracy}  # fmt: skip


def train(data: Path, hyperparameters: Path, envs: Path, *extra: str) -> int:
    return launch.main(
        [
            "--env", "local", "--envs-dir", str(envs), "--role", ROLE, "--bucket", BUCKET,
            "--data", str(data), "--config", str(hyperparameters), "--poll-seconds", "0.2",
            "--model-package-group", "scones-dev-models", *extra,
        ]
    )  # fmt: skip


@pytest.fixture(scope="module")
def trained(
    cloud: RunningCloud, data: Path, hyperparameters: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One `make train` whose gate rejects it (0.9 from the Terraform outputs), and the package."""
    envs = tmp_path_factory.mktemp("envs")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in cloud.env().items():
            patch.setenv(name, value)
        patch.setattr(launch, "read_outputs", outputs(0.9))
        code = train(data, hyperparameters, envs)
    (summary,) = cloud.client("sagemaker").list_model_packages(
        ModelPackageGroupName="scones-dev-models"
    )["ModelPackageSummaryList"]
    package = cloud.client("sagemaker").describe_model_package(
        ModelPackageName=summary["ModelPackageArn"]
    )
    return {"code": code, "package": package, "envs": envs}


def test_below_the_gate_the_package_is_rejected_and_train_fails_saying_why(
    trained: dict[str, Any], cloud: RunningCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    package = trained["package"]
    assert trained["code"] == 1
    assert package["ModelApprovalStatus"] == "Rejected"
    metadata = package["CustomerMetadataProperties"]
    test_accuracy = float(metadata["test_accuracy"])
    assert test_accuracy < 0.9 and metadata["min_accuracy"] == "0.9000"
    assert metadata["test_images"] == "20"
    assert 0.0 <= float(metadata["validation_accuracy"]) <= 1.0  # the job's FinalMetricDataList
    for text in (package["ModelPackageDescription"], package["ApprovalDescription"]):
        assert f"test accuracy {test_accuracy:.4f} on 20 images is below the gate" in text
        assert "Terraform output min_accuracy" in text
    # The full report is where ModelMetrics points.
    source = package["ModelMetrics"]["ModelQuality"]["Statistics"]
    bucket, key = source["S3Uri"][5:].split("/", 1)
    report = json.loads(cloud.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert report["test"]["accuracy"] == pytest.approx(test_accuracy, abs=1e-4)
    assert report["approved"] is False
    (container,) = package["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == report["model_data_url"]
    assert container["Image"].endswith("/image-classification:1")
    # Nothing is written for the next plan by training.
    assert not (trained["envs"] / "local" / "model.auto.tfvars.json").exists()


def test_the_cli_gate_for_one_run_approves_the_same_model(
    trained: dict[str, Any],
    local_env: RunningCloud,
    data: Path,
    hyperparameters: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    monkeypatch.setattr(launch, "read_outputs", outputs(0.9))
    job = trained["package"]["CustomerMetadataProperties"]["training_job"]
    # The same job (--attach), gated at 0.3 instead of the environment's 0.9: Approved.
    code = train(data, hyperparameters, trained["envs"], "--attach", job, "--min-accuracy", "0.3")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Approved: test accuracy" in out and "reaches the gate min_accuracy 0.3000" in out
    assert "--min-accuracy" in out and "make promote ENV=local" in out
    approved = local_env.client("sagemaker").list_model_packages(
        ModelPackageGroupName="scones-dev-models", ModelApprovalStatus="Approved"
    )["ModelPackageSummaryList"]
    assert [p["ModelPackageArn"] for p in approved] == [
        trained["package"]["ModelPackageArn"].replace("/1", "/2")
    ]


def test_the_rejection_is_a_named_error_without_a_traceback(
    trained: dict[str, Any],
    local_env: RunningCloud,
    data: Path,
    hyperparameters: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    job = trained["package"]["CustomerMetadataProperties"]["training_job"]
    code = train(data, hyperparameters, trained["envs"], "--attach", job, "--min-accuracy", "0.99")
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("error: ModelRejectedError: test accuracy")
    assert "Registered as Rejected" in err and "MIN_ACCURACY=" in err
    assert "Traceback" not in err


def test_without_a_gate_train_says_what_to_pass_before_any_call(
    tmp_path: Path, data: Path, hyperparameters: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = launch.main(
        ["--env", "nowhere", "--envs-dir", str(tmp_path), "--role", ROLE, "--bucket", BUCKET,
         "--data", str(data), "--config", str(hyperparameters)]
    )  # fmt: skip
    assert code == 1
    assert "--model-package-group NAME and --min-accuracy N" in capsys.readouterr().err
    with pytest.raises(TerraformOutputError, match="--min-accuracy N"):
        launch.resolve_registry("dev", tmp_path, "scones-dev-models", None)


def test_without_the_min_accuracy_output_train_names_the_make_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(launch, "read_outputs", lambda env, envs_dir: {"bucket_name": "b"})
    with pytest.raises(TerraformOutputError, match=r"MIN_ACCURACY= on make"):
        launch.resolve_registry("dev", tmp_path, "scones-dev-models", None)
    group, gate = launch.resolve_registry("dev", tmp_path, "scones-dev-models", 0.75)
    assert (group, gate.min_accuracy, gate.source) == ("scones-dev-models", 0.75, "--min-accuracy")


def promote_run(envs: Path, *extra: str) -> int:
    return promote.main(
        ["--env", "dev", "--envs-dir", str(envs), "--model-package-group", "scones-dev-models",
         *extra]
    )  # fmt: skip


def test_promote_picks_the_latest_approved_and_prints_the_change(
    trained: dict[str, Any], local_env: RunningCloud, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    sagemaker = local_env.client("sagemaker")
    approved = sagemaker.list_model_packages(
        ModelPackageGroupName="scones-dev-models", ModelApprovalStatus="Approved",
        SortBy="CreationTime", SortOrder="Descending",
    )["ModelPackageSummaryList"][0]["ModelPackageArn"]  # fmt: skip
    assert promote_run(tmp_path) == 0
    out = capsys.readouterr().out
    tfvars = json.loads((tmp_path / "dev" / "model.auto.tfvars.json").read_text())
    package = sagemaker.describe_model_package(ModelPackageName=approved)
    assert tfvars == {
        "model_package_arn": approved,
        "model_data_url": package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"],
    }
    assert "old  (none: the endpoint is not deployed yet)" in out
    assert f"new  {approved}" in out
    assert f"test_accuracy  {package['CustomerMetadataProperties']['test_accuracy']}" in out

    # Promoting again: the change is old -> new, and the same package says unchanged.
    assert promote_run(tmp_path, "--package", approved) == 0
    out = capsys.readouterr().out
    assert "model package: unchanged" in out and f"old  {approved}" in out


def test_promote_refuses_a_rejected_package_of_another_group_or_a_bad_arn(
    trained: dict[str, Any], local_env: RunningCloud, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    rejected = trained["package"]["ModelPackageArn"]
    assert promote_run(tmp_path, "--package", rejected) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: PackageNotApprovedError:") and "is Rejected" in err
    assert "below the gate" in err

    sagemaker = local_env.client("sagemaker")
    other = sagemaker.create_model_package(
        ModelPackageGroupName="scones-prod-models",
        InferenceSpecification=trained["package"]["InferenceSpecification"],
        ModelApprovalStatus="Approved",
    )["ModelPackageArn"]
    assert promote_run(tmp_path, "--package", other) == 1
    assert "PackageNotInGroupError" in capsys.readouterr().err

    for bad in (rejected.replace("/1", "/99"), "not-an-arn!"):
        assert promote_run(tmp_path, "--package", bad) == 1
        assert capsys.readouterr().err.startswith("error: UnknownPackageError: no model package")
    assert not (tmp_path / "dev" / "model.auto.tfvars.json").exists()


def test_promote_without_an_approved_package_says_so(
    local_env: RunningCloud, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local_env.client("sagemaker").create_model_package_group(ModelPackageGroupName="empty-models")
    code = promote.main(
        ["--env", "dev", "--envs-dir", str(tmp_path), "--model-package-group", "empty-models"]
    )
    assert code == 1
    assert "NoApprovedPackageError: model package group empty-models holds no Approved" in (
        capsys.readouterr().err
    )
