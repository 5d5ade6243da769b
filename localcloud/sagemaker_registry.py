"""The SageMaker model registry as AWS answers it: groups, versioned packages, models from them.

moto 5.2.5 has CreateModelPackageGroup, DescribeModelPackageGroup, CreateModelPackage,
DescribeModelPackage, ListModelPackages and UpdateModelPackage. This module adds what the
tools and Terraform also call, and what moto gets wrong:

- DeleteModelPackageGroup (the provider's delete, then its waiter reads "does not exist") and
  DeleteModelPackage, which moto lacks (NotImplementedError, HTTP 500);
- AWS's input constraints (botocore 1.44.8's sagemaker service model, the same one the API
  reference is generated from), which moto does not check: names, descriptions,
  CustomerMetadataProperties, ModelMetrics sources;
- a second group of the same name, which moto silently overwrites, with its packages orphaned;
- version numbers: moto counts the group's packages, so after a delete it hands out a version
  (and an ARN) again; SageMaker never reuses one;
- UpdateModelPackage: moto clears ApprovalDescription and replaces CustomerMetadataProperties
  when a request leaves them out; AWS changes only what the request names (the members are
  optional, and CustomerMetadataPropertiesToRemove exists for removing);
- CreateModel with a ModelPackageName container: the package must exist, and the endpoint
  serves the package's own container (its ModelDataUrl), see `serving_container`.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from localcloud import names, sagemaker_moto
from localcloud.plugin import LocalCloudContext

# botocore 1.44.8, botocore/data/sagemaker/2017-07-24/service-2.json: EntityName, ArnOrName,
# VersionedArnOrName, ModelPackageArn, EntityDescription, ApprovalDescription,
# CustomerMetadataKey/Value, CustomerMetadataMap, MetricsSource, S3Uri.
_ENTITY_NAME = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
_ARN_OR_NAME = (
    r"(arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:[a-z\-]*\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})"
    r"(?<!-)"
)
_VERSIONED_ARN_OR_NAME = _ARN_OR_NAME + r"(\/[0-9]{1,9})?"
_PACKAGE_ARN = r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]{9,16}:[0-9]{12}:model-package/[\S]{1,2048}"
_S3_URI = r"(https|s3)://([^/]+)/?(.*)"
GROUP_NAME = names.NameRule("modelPackageGroupName", _ENTITY_NAME, 63, f"^{_ENTITY_NAME}")
GROUP_ARN_OR_NAME = names.NameRule("modelPackageGroupName", _ARN_OR_NAME, 170, _ARN_OR_NAME)
PACKAGE_NAME = names.NameRule(
    "modelPackageName", _VERSIONED_ARN_OR_NAME, 176, _VERSIONED_ARN_OR_NAME
)
PACKAGE_ARN = names.NameRule("modelPackageArn", _PACKAGE_ARN, 2048, _PACKAGE_ARN)
S3_URI = names.NameRule("s3Uri", _S3_URI, 1024, f"^{_S3_URI}")
DESCRIPTION_MAX = 1024
METADATA_MAX_ENTRIES = 50
METADATA_KEY_MAX = 128
METADATA_VALUE_MAX = 256
# Unicode general categories of the patterns: EntityDescription is
# [\p{L}\p{M}\p{Z}\p{S}\p{N}\p{P}]*, CustomerMetadataKey/Value ([\p{L}\p{Z}\p{N}_.:\/=+\-@]*).
_DESCRIPTION_CATEGORIES = frozenset("LMZSNP")
_METADATA_CATEGORIES = frozenset("LZN")
_METADATA_EXTRA = frozenset("_.:/=+-@")
METRIC_SOURCES = (
    ("ModelQuality", ("Statistics", "Constraints")),
    ("ModelDataQuality", ("Statistics", "Constraints")),
    ("Bias", ("Report", "PreTrainingReport", "PostTrainingReport")),
    ("Explainability", ("Report",)),
)


def _description_violations(value: object, member: str) -> list[str]:
    if value is None:
        return []
    text = str(value)
    found = []
    if len(text) > DESCRIPTION_MAX:
        found.append(
            f"Value '{text}' at '{member}' failed to satisfy constraint: Member must have length "
            f"less than or equal to {DESCRIPTION_MAX}"
        )
    if any(unicodedata.category(ch)[0] not in _DESCRIPTION_CATEGORIES for ch in text):
        found.append(
            f"Value '{text}' at '{member}' failed to satisfy constraint: Member must satisfy "
            r"regular expression pattern: [\p{L}\p{M}\p{Z}\p{S}\p{N}\p{P}]*"
        )
    return found


def _metadata_text_ok(text: str, limit: int) -> bool:
    return 1 <= len(text) <= limit and all(
        unicodedata.category(ch)[0] in _METADATA_CATEGORIES or ch in _METADATA_EXTRA for ch in text
    )


def _metadata_violations(value: object, member: str = "customerMetadataProperties") -> list[str]:
    if value is None:
        return []
    if not isinstance(value, dict) or not 1 <= len(value) <= METADATA_MAX_ENTRIES:
        return [
            f"Value at '{member}' failed to satisfy constraint: Member must have between 1 and "
            f"{METADATA_MAX_ENTRIES} entries"
        ]
    found = []
    for key, item in value.items():
        if not _metadata_text_ok(str(key), METADATA_KEY_MAX):
            found.append(
                f"Value '{key}' at '{member}' failed to satisfy constraint: Map keys must have "
                rf"length 1-{METADATA_KEY_MAX} and satisfy ([\p{{L}}\p{{Z}}\p{{N}}_.:\/=+\-@]*)"
            )
        if not isinstance(item, str) or not _metadata_text_ok(item, METADATA_VALUE_MAX):
            found.append(
                f"Value '{item}' at '{member}.{key}' failed to satisfy constraint: Map values "
                rf"must have length 1-{METADATA_VALUE_MAX} and satisfy "
                r"([\p{L}\p{Z}\p{N}_.:\/=+\-@]*)"
            )
    return found


def _metrics_violations(metrics: object) -> list[str]:
    """Every MetricsSource of ModelMetrics needs ContentType and an s3:// or https:// S3Uri."""
    if not isinstance(metrics, dict):
        return []
    found = []
    for group, members in METRIC_SOURCES:
        for member in members:
            source = (metrics.get(group) or {}).get(member)
            if source is None:
                continue
            where = f"modelMetrics.{group[0].lower()}{group[1:]}.{member[0].lower()}{member[1:]}"
            if not source.get("ContentType"):
                found.append(
                    f"Value null at '{where}.contentType' failed to satisfy constraint: Member "
                    "must not be null"
                )
            found += S3_URI.violations(source.get("S3Uri"), f"{where}.s3Uri")
    return found


def _group_name(value: str) -> str:
    """A group's name from its name or ARN (arn:...:model-package-group/<name>)."""
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def _missing_group(backend: Any, name: str) -> Exception:
    from moto.sagemaker.exceptions import ValidationError

    arn = f"arn:aws:sagemaker:{backend.region_name}:{backend.account_id}:model-package-group/{name}"
    # The provider reads a group as gone when the message contains "does not exist".
    return ValidationError(f"ModelPackageGroup {arn} does not exist.")


def find_package(backend: Any, name_or_arn: str) -> Any | None:
    """The package a name or ARN names, as moto's DescribeModelPackage resolves it."""
    arn = backend.model_package_name_mapping.get(name_or_arn, name_or_arn)
    return backend.model_packages.get(arn)


def serving_container(backend: Any, container: dict[str, Any]) -> dict[str, Any] | None:
    """The container an endpoint runs for a model's container definition (None: no package).

    A ModelPackageName container stands for the package's InferenceSpecification container
    (image and ModelDataUrl), as SageMaker deploys a registered model version.
    """
    package_name = container.get("ModelPackageName")
    if not package_name:
        return container
    package = find_package(backend, package_name)
    if package is None:
        return None
    containers = (package.inference_specification or {}).get("Containers") or [{}]
    return {**containers[0], **{k: v for k, v in container.items() if k != "ModelPackageName"}}


def _backend_class() -> Any:
    from moto.sagemaker.models import SageMakerModelBackend

    return SageMakerModelBackend


def _create_group(self: Any, model_package_group_name: str, *args: Any, **kwargs: Any) -> str:
    from moto.sagemaker.exceptions import ValidationError

    description = args[0] if args else kwargs.get("model_package_group_description")
    names.raise_sagemaker(
        GROUP_NAME.violations(model_package_group_name)
        + _description_violations(description, "modelPackageGroupDescription")
    )
    if model_package_group_name in self.model_package_groups:
        existing = self.model_package_groups[model_package_group_name].arn
        raise ValidationError(f"Model Package Group already exists: {existing}")
    create = sagemaker_moto.original(_backend_class(), "create_model_package_group")
    arn: str = create(self, model_package_group_name, *args, **kwargs)
    return arn


def _describe_group(self: Any, model_package_group_name: str) -> Any:
    names.raise_sagemaker(GROUP_ARN_OR_NAME.violations(model_package_group_name))
    name = _group_name(model_package_group_name)
    group = self.model_package_groups.get(name)
    if group is None:
        raise _missing_group(self, name)
    return group


def _delete_group(self: Any, model_package_group_name: str) -> None:
    from moto.sagemaker.exceptions import ConflictException

    name = _group_name(model_package_group_name)
    group = _describe_group(self, model_package_group_name)
    versions = sorted(
        p.model_package_version
        for p in self.model_packages.values()
        if p.model_package_group_name == name
    )
    if versions:
        # DeleteModelPackageGroup's one documented error is ConflictException: a group that
        # still holds versions is not deleted (delete them with DeleteModelPackage first).
        raise ConflictException(
            f"Model Package Group {group.arn} cannot be deleted: it holds model package versions "
            f"{versions}; delete them with DeleteModelPackage first."
        )
    del self.model_package_groups[name]


def _create_package(self: Any, **kwargs: Any) -> str:
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import ModelPackage

    group = kwargs.get("model_package_group_name")
    violations = []
    if kwargs.get("model_package_name") is not None:
        violations += GROUP_NAME.violations(kwargs["model_package_name"], "modelPackageName")
    if group is not None:
        violations += GROUP_ARN_OR_NAME.violations(group)
    violations += _description_violations(
        kwargs.get("model_package_description"), "modelPackageDescription"
    )
    violations += _metadata_violations(kwargs.get("customer_metadata_properties"))
    violations += _metrics_violations(kwargs.get("model_metrics"))
    names.raise_sagemaker(violations)
    if group is None:
        create = sagemaker_moto.original(_backend_class(), "create_model_package")
        unversioned: str = create(self, **kwargs)
        return unversioned
    if kwargs.get("model_package_name") is not None:
        raise ValidationError(
            "Both ModelPackageName and ModelPackageGroupName are provided in the input. Cannot "
            "determine which one to use."
        )
    group = _group_name(group)
    if group not in self.model_package_groups:
        raise _missing_group(self, group)
    # Versions only grow, even past deleted ones, so a version's ARN always names one model.
    counters: dict[str, int] = self.__dict__.setdefault("_localcloud_package_versions", {})
    used = [
        p.model_package_version
        for p in self.model_packages.values()
        if p.model_package_group_name == group
    ]
    version = max([counters.get(group, 0), *used]) + 1
    counters[group] = version
    kwargs = {**kwargs, "model_package_name": group, "model_package_group_name": group}
    package = ModelPackage(
        **kwargs,
        model_package_version=version,
        approval_description=None,
        region_name=self.region_name,
        account_id=self.account_id,
        model_package_type="Versioned",
    )
    self.model_package_name_mapping[package.model_package_name] = package.arn
    self.model_package_name_mapping[package.arn] = package.arn
    self.model_packages[package.arn] = package
    arn: str = package.arn
    return arn


def _describe_package(self: Any, model_package_name: str) -> Any:
    names.raise_sagemaker(PACKAGE_NAME.violations(model_package_name))
    describe = sagemaker_moto.original(_backend_class(), "describe_model_package")
    return describe(self, model_package_name)


def _update_package(
    self: Any,
    model_package_arn: str,
    model_approval_status: str | None,
    approval_description: str | None,
    customer_metadata_properties: dict[str, str] | None,
    customer_metadata_properties_to_remove: list[str],
    additional_inference_specifications_to_add: list[Any] | None,
) -> str:
    from moto.sagemaker.exceptions import ValidationError

    names.raise_sagemaker(
        PACKAGE_ARN.violations(model_package_arn)
        + _description_violations(approval_description, "approvalDescription")
        + _metadata_violations(customer_metadata_properties)
    )
    package = self.model_packages.get(model_package_arn)
    if package is None:
        raise ValidationError(f"Model package {model_package_arn} not found")
    if model_approval_status is not None:
        package.set_model_approval_status(model_approval_status)
    if approval_description is not None:
        package.approval_description = approval_description
    metadata = dict(package.customer_metadata_properties or {})
    metadata.update(customer_metadata_properties or {})
    for key in customer_metadata_properties_to_remove or []:
        metadata.pop(key, None)
    package.customer_metadata_properties = metadata or None
    if additional_inference_specifications_to_add:
        package.add_additional_inference_specifications(additional_inference_specifications_to_add)
    package.modifications_done()
    arn: str = package.arn
    return arn


def _delete_package(self: Any, model_package_name: str) -> None:
    package = _describe_package(self, model_package_name)
    del self.model_packages[package.arn]
    for alias in [k for k, v in self.model_package_name_mapping.items() if v == package.arn]:
        del self.model_package_name_mapping[alias]
    # A group's name maps to its newest package (moto's DescribeModelPackage by group name).
    siblings = [
        p
        for p in self.model_packages.values()
        if p.model_package_group_name == package.model_package_group_name
        and package.model_package_group_name
    ]
    if siblings:
        newest = max(siblings, key=lambda p: p.model_package_version or 0)
        self.model_package_name_mapping[newest.model_package_name] = newest.arn


def _create_model(self: Any, *args: Any, **kwargs: Any) -> Any:
    from moto.sagemaker.exceptions import ValidationError

    primary = kwargs.get("primary_container") or {}
    containers = [primary, *(kwargs.get("containers") or [])]
    for index, container in enumerate(containers):
        package_name = container.get("ModelPackageName") if isinstance(container, dict) else None
        if package_name is None:
            continue
        member = "primaryContainer" if index == 0 else f"containers.{index}.member"
        names.raise_sagemaker(PACKAGE_NAME.violations(package_name, f"{member}.modelPackageName"))
        if find_package(self, package_name) is None:
            raise ValidationError(
                f"Could not find model package '{package_name}'. Register it with "
                "CreateModelPackage, or check the ARN (and its version)."
            )
    create = sagemaker_moto.original(_backend_class(), "create_model")
    return create(self, *args, **kwargs)


def _delete_group_response(self: Any) -> Any:
    from moto.core.responses import ActionResult

    self.sagemaker_backend.delete_model_package_group(self._get_param("ModelPackageGroupName"))
    return ActionResult({})


def _delete_package_response(self: Any) -> Any:
    from moto.core.responses import ActionResult

    self.sagemaker_backend.delete_model_package(self._get_param("ModelPackageName"))
    return ActionResult({})


def install(ctx: LocalCloudContext) -> None:
    """Validate the registry calls as AWS does and add the deletes moto lacks."""
    sagemaker_moto.require_moto()
    from moto.sagemaker.responses import SageMakerResponse

    backend = _backend_class()
    sagemaker_moto.patch(backend, "create_model_package_group", _create_group)
    sagemaker_moto.patch(backend, "describe_model_package_group", _describe_group)
    sagemaker_moto.patch(backend, "create_model_package", _create_package)
    sagemaker_moto.patch(backend, "describe_model_package", _describe_package)
    sagemaker_moto.patch(backend, "update_model_package", _update_package)
    sagemaker_moto.patch(backend, "create_model", _create_model)
    # Actions moto 5.2.5 lacks (tests/localcloud/test_sagemaker_moto.py checks it still does).
    sagemaker_moto.patch(backend, "delete_model_package_group", _delete_group)
    sagemaker_moto.patch(backend, "delete_model_package", _delete_package)
    sagemaker_moto.patch(SageMakerResponse, "delete_model_package_group", _delete_group_response)
    sagemaker_moto.patch(SageMakerResponse, "delete_model_package", _delete_package_response)
