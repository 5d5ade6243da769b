"""Tripwires on the moto 5.2.5 internals the SageMaker parts patch or read: fail loudly on drift."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import moto
import pytest

from localcloud import sagemaker_moto
from localcloud.plugin import MOTO_VERSION, MotoVersionError


def resolve(module: str, path: str) -> Any:
    target: Any = importlib.import_module(module)
    for part in path.split("."):
        target = getattr(target, part)
    return target


def test_moto_is_the_release_the_patches_were_written_for() -> None:
    assert moto.__version__ == MOTO_VERSION, (
        f"moto {moto.__version__} is installed; localcloud/sagemaker_*.py patch moto "
        f"{MOTO_VERSION}. Re-check every entry of sagemaker_moto.MOTO_INTERNALS, then bump."
    )


@pytest.mark.parametrize(("module", "path"), sagemaker_moto.MOTO_INTERNALS)
def test_every_patched_or_read_internal_still_exists(module: str, path: str) -> None:
    assert resolve(module, path) is not None


def test_backend_and_model_instances_still_hold_what_we_read() -> None:
    from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend

    backend = SageMakerModelBackend("us-east-1", "123456789012")
    for name in (
        "_models",
        "training_jobs",
        "endpoints",
        "endpoint_configs",
        "model_package_groups",
        "model_packages",
        "model_package_name_mapping",
    ):
        assert isinstance(getattr(backend, name), dict), name
    endpoint = FakeEndpoint("123456789012", "us-east-1", "e", "c", [], {}, [])
    for name in (
        "endpoint_status",
        "failure_reason",
        "endpoint_config_name",
        "production_variants",
        "data_capture_config",
        "last_modified_time",
    ):
        assert hasattr(endpoint, name), name


def test_install_refuses_another_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto, "__version__", "9.9.9")
    with pytest.raises(MotoVersionError, match=r"moto==9\.9\.9 is installed"):
        sagemaker_moto.require_moto()


@pytest.mark.parametrize(
    ("function", "parameters"),
    [
        (
            "moto.sagemaker.models:SageMakerModelBackend.create_training_job",
            ["self", "training_job_name", "hyper_parameters", "algorithm_specification"],
        ),
        (
            "moto.sagemaker.models:SageMakerModelBackend.create_endpoint",
            ["self", "endpoint_name", "endpoint_config_name", "tags"],
        ),
        ("moto.sagemaker.models:SageMakerModelBackend.delete_endpoint", ["self", "endpoint_name"]),
        (
            "moto.sagemaker.models:SageMakerModelBackend.update_model_package",
            [
                "self",
                "model_package_arn",
                "model_approval_status",
                "approval_description",
                "customer_metadata_properties",
                "customer_metadata_properties_to_remove",
                "additional_inference_specifications_to_add",
            ],
        ),
        (
            "moto.sagemaker.models:ModelPackage.__init__",
            [
                "self",
                "model_package_name",
                "model_package_group_name",
                "model_package_version",
                "model_package_description",
                "inference_specification",
                "source_algorithm_specification",
                "validation_specification",
                "certify_for_marketplace",
                "model_approval_status",
                "metadata_properties",
                "model_metrics",
                "approval_description",
                "customer_metadata_properties",
                "drift_check_baselines",
                "domain",
                "task",
                "sample_payload_url",
                "additional_inference_specifications",
                "client_token",
                "region_name",
                "account_id",
                "model_package_type",
                "tags",
            ],
        ),
        (
            "moto.sagemaker.models:SageMakerModelBackend.create_model_package_group",
            ["self", "model_package_group_name", "model_package_group_description", "tags"],
        ),
        ("moto.s3.models:S3Backend.put_object", ["self", "bucket_name", "key_name", "value"]),
        ("moto.s3.models:S3Backend.get_object", ["self", "bucket_name", "key_name"]),
        (
            "moto.logs.models:LogsBackend.put_log_events",
            ["self", "log_group_name", "log_stream_name", "log_events"],
        ),
        (
            "moto.logs.models:LogsBackend.create_log_stream",
            ["self", "log_group_name", "log_stream_name"],
        ),
    ],
)
def test_called_signatures_are_unchanged(function: str, parameters: list[str]) -> None:
    module, path = function.split(":")
    original = sagemaker_moto.original(*_owner_and_name(module, path))
    names = list(inspect.signature(original).parameters)
    assert names[: len(parameters)] == parameters


def _owner_and_name(module: str, path: str) -> tuple[Any, str]:
    owner_path, _, name = path.rpartition(".")
    return resolve(module, owner_path), name


def test_moto_still_completes_training_jobs_at_once_and_ignores_network_isolation() -> None:
    """The behaviours we replace: if moto fixes them, our patches may be redundant or wrong."""
    from moto.sagemaker.models import FakeTrainingJob, Model

    assert '"Completed"' in inspect.getsource(FakeTrainingJob.__init__)
    assert "self.enable_network_isolation = False" in inspect.getsource(Model.__init__)


def test_runtime_responses_decode_bodies_unless_asked_not_to() -> None:
    from moto.core.responses import BaseResponse

    assert BaseResponse.use_raw_body is False
    assert "use_raw_body" in inspect.signature(BaseResponse.setup_class).parameters


def test_moto_lacks_the_actions_we_add() -> None:
    """StopTrainingJob, UpdateEndpoint and the registry deletes are ours; moto growing them
    needs a look."""
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    for owner in (SageMakerModelBackend, SageMakerResponse):
        for name in (
            "stop_training_job",
            "update_endpoint",
            "delete_model_package_group",
            "delete_model_package",
        ):
            current = getattr(owner, name, None)
            # Patched or not, moto's own version of the attribute must still be absent.
            assert getattr(current, "_localcloud_original", current) is None, (owner, name)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"VpcConfig": {}, "Name": "m"}, {"Name": "m"}),
        (
            {"A": {"B": [], "C": None, "D": 0, "E": False, "F": ""}},
            {"A": {"D": 0, "E": False, "F": ""}},
        ),
        ({"L": [{"X": {}}, {"Y": 1}]}, {"L": [{}, {"Y": 1}]}),
    ],
)
def test_prune_empty_drops_only_none_and_empty_containers(
    given: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert sagemaker_moto.prune_empty(given) == expected


def test_parse_s3_uri() -> None:
    assert sagemaker_moto.parse_s3_uri("s3://b/k/x.tar.gz") == ("b", "k/x.tar.gz")
    with pytest.raises(ValueError, match="not an s3:// URI"):
        sagemaker_moto.parse_s3_uri("https://b/k")
