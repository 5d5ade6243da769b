"""Application Auto Scaling beyond plain moto: tags on scalable targets, SageMaker variants checked.

moto 5.2.5 registers scalable targets and scaling policies but has no TagResource,
UntagResource or ListTagsForResource, and the Terraform AWS provider reads a target's tags
after every create and refresh (aws_appautoscaling_target has `tags`): without them every
apply fails with HTTP 500. moto also registers a SageMaker variant that does not exist, where
AWS answers ValidationException. Like moto, nothing here acts on metrics: targets and policies
are recorded, never scaled.
"""

from __future__ import annotations

import json
from typing import Any

from localcloud.plugin import LocalCloudContext, patch_attribute, require_moto_version

# The moto attributes this module patches; tests/localcloud checks they still fit.
PATCHED = {
    "moto.applicationautoscaling.responses.ApplicationAutoScalingResponse": [
        "register_scalable_target",
        "deregister_scalable_target",
        "tag_resource (new)",
        "untag_resource (new)",
        "list_tags_for_resource (new)",
    ],
}
SAGEMAKER_VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
# TagResource: "Tags: Required: Yes; Map Entries: Maximum number of 200 items"
# (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TagResource.html).
MAX_TAGS = 200


def _error(code: str, message: str) -> Exception:
    """An AWS-shaped JSON error (HTTP 400): moto answers it with its code and message."""
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)


def tags_of(backend: Any) -> dict[str, dict[str, str]]:
    """Tags by scalable target ARN, kept on the account's and region's backend."""
    store: dict[str, dict[str, str]] | None = getattr(backend, "_localcloud_tags", None)
    if store is None:
        store = {}
        backend._localcloud_tags = store
    return store


def target_arns(backend: Any) -> dict[str, Any]:
    return {t.arn: t for by_id in backend.targets.values() for t in by_id.values()}


def check_sagemaker_variant(account_id: str, region: str, resource_id: str) -> None:
    """AWS registers only an existing endpoint's existing variant (endpoint/<name>/variant/<v>)."""
    from moto.sagemaker.models import sagemaker_backends

    parts = resource_id.split("/")
    if len(parts) != 4 or parts[0] != "endpoint" or parts[2] != "variant":
        raise _error(
            "ValidationException",
            f"Unsupported resource ID {resource_id}: a SageMaker variant is "
            "endpoint/<endpoint-name>/variant/<variant-name>.",
        )
    endpoint = sagemaker_backends[account_id][region].endpoints.get(parts[1])
    variants = {v.get("VariantName") for v in (endpoint.production_variants if endpoint else [])}
    if endpoint is None or parts[3] not in variants:
        raise _error(
            "ValidationException",
            f"The endpoint variant {resource_id} does not exist: create the endpoint "
            "before registering its variant as a scalable target.",
        )


def set_tags(store: dict[str, dict[str, str]], arn: str, tags: dict[str, str]) -> None:
    merged = {**store.get(arn, {}), **tags}
    if len(merged) > MAX_TAGS:
        raise _error(
            "TooManyTagsException",
            f"A scalable target may have at most {MAX_TAGS} tags; {arn} would have {len(merged)}.",
        )
    store[arn] = merged


def install(ctx: LocalCloudContext) -> None:
    require_moto_version()
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    def answer(body: dict[str, Any]) -> str:
        return json.dumps(body)

    def found(self: Any, arn: str) -> Any:
        backend = self.applicationautoscaling_backend
        if arn not in target_arns(backend):
            raise _error("ResourceNotFoundException", f"No scalable target found for {arn}.")
        return backend

    original_register = ApplicationAutoScalingResponse.register_scalable_target
    original_deregister = ApplicationAutoScalingResponse.deregister_scalable_target

    def register_scalable_target(self: Any) -> Any:
        if (
            self._get_param("ServiceNamespace") == "sagemaker"
            and self._get_param("ScalableDimension") == SAGEMAKER_VARIANT_DIMENSION
        ):
            check_sagemaker_variant(
                self.current_account, self.region, self._get_param("ResourceId") or ""
            )
        result = original_register(self)
        tags = self._get_param("Tags") or {}
        if tags:
            arn = json.loads(result)["ScalableTargetARN"]
            set_tags(tags_of(self.applicationautoscaling_backend), arn, tags)
        return result

    def deregister_scalable_target(self: Any) -> Any:
        backend = self.applicationautoscaling_backend
        before = set(target_arns(backend))
        result = original_deregister(self)
        for arn in before - set(target_arns(backend)):
            tags_of(backend).pop(arn, None)
        return result

    def tag_resource(self: Any) -> Any:
        arn = self._get_param("ResourceARN")
        set_tags(tags_of(found(self, arn)), arn, self._get_param("Tags") or {})
        return answer({})

    def untag_resource(self: Any) -> Any:
        arn = self._get_param("ResourceARN")
        store = tags_of(found(self, arn))
        keys = set(self._get_param("TagKeys") or [])
        store[arn] = {k: v for k, v in store.get(arn, {}).items() if k not in keys}
        return answer({})

    def list_tags_for_resource(self: Any) -> Any:
        arn = self._get_param("ResourceARN")
        return answer({"Tags": dict(tags_of(found(self, arn)).get(arn, {}))})

    responses = ApplicationAutoScalingResponse
    patch_attribute(responses, "register_scalable_target", register_scalable_target)
    patch_attribute(responses, "deregister_scalable_target", deregister_scalable_target)
    patch_attribute(responses, "tag_resource", tag_resource, replaces=False)
    patch_attribute(responses, "untag_resource", untag_resource, replaces=False)
    patch_attribute(responses, "list_tags_for_resource", list_tags_for_resource, replaces=False)
    ctx.child_logger("application_autoscaling").info(
        "Application Auto Scaling: target tags, SageMaker variants checked"
    )
