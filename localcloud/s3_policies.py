"""Bucket policies evaluated as AWS does: a statement whose Condition fails does not apply."""

from __future__ import annotations

from typing import Any

from localcloud.plugin import LocalCloudContext, patch_attribute, require_moto_version

# The moto attributes this module patches; tests/localcloud checks they still fit.
PATCHED = {
    "moto.iam.access_control.IAMPolicyStatement": ["is_action_permitted"],
    "moto.iam.policy_conditions": ["CONDITION_OPERATIONS['Bool'] (added)"],
}

# The local cloud speaks plain HTTP on loopback only; TLS is not emulated. Requests count as
# secure transport so that the usual DenyInsecureTransport statement behaves as on AWS (where
# every SDK call uses HTTPS) instead of denying everything.
REQUEST_CONTEXT = {"aws:SecureTransport": "true"}


def bool_operation(expected_value: list[str] | str, actual_value: str) -> bool:
    """IAM's Bool operator; moto 5.2.5 lacks it and treats any Bool condition as met."""
    wanted = expected_value if isinstance(expected_value, list) else [expected_value]
    return actual_value.lower() in {str(value).lower() for value in wanted}


def install(ctx: LocalCloudContext) -> None:
    require_moto_version()
    from moto.iam import policy_conditions
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    policy_conditions.CONDITION_OPERATIONS.setdefault("Bool", bool_operation)

    original = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(
        self: IAMPolicyStatement,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> Any:
        values = {**REQUEST_CONTEXT, **(incoming_condition_values or {})}
        # moto 5.2.5 returns DENIED when a Condition does not hold, so a Deny statement with
        # an unmet condition (DenyInsecureTransport) denies everything. On AWS it is neutral.
        if self._statement.get("Condition") and not self._check_conditions(values):
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, values)

    patch_attribute(IAMPolicyStatement, "is_action_permitted", is_action_permitted)
    ctx.child_logger("s3").info("bucket policy conditions evaluated as on AWS")
