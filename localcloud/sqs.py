"""SQS beyond plain moto: queue attributes read back as AWS writes them."""

from __future__ import annotations

import json
from typing import Any

from localcloud.plugin import LocalCloudContext, patch_attribute, require_moto_version

# The moto attributes this module patches; tests/localcloud checks they still fit.
PATCHED = {"moto.sqs.models.Queue": ["attributes (property)"]}


def install(ctx: LocalCloudContext) -> None:
    require_moto_version()
    from moto.sqs.models import Queue

    original = Queue.attributes

    def attributes(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = original.fget(self)  # type: ignore[attr-defined]
        if self.redrive_policy:
            # AWS answers the compact JSON it was given ({"deadLetterTargetArn":"...",
            # "maxReceiveCount":5}); moto 5.2.5 adds spaces, so the Terraform provider, which
            # waits until the attribute reads back as written, spends its whole timeout on
            # every queue with a dead-letter queue and plans it again each run.
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    patch_attribute(Queue, "attributes", property(attributes))
    ctx.child_logger("sqs").info("SQS attributes read back compactly")
