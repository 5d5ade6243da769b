"""Fails loudly when moto changes under the local cloud's patches of its internals."""

from __future__ import annotations

import inspect

import moto
import pytest

from localcloud.plugin import MOTO_VERSION, MotoVersionError, patch_attribute, require_moto_version


def test_moto_is_the_release_the_patches_were_written_for() -> None:
    assert moto.__version__ == MOTO_VERSION, (
        f"moto {moto.__version__} is installed; localcloud's patches target {MOTO_VERSION}. "
        "Review localcloud/stepfunctions.py and localcloud/lambda_runtime.py against it."
    )
    require_moto_version()


def test_require_moto_version_names_both_versions() -> None:
    with pytest.raises(MotoVersionError, match=r"moto==0\.0\.1.*moto==5"):
        require_moto_version("0.0.1")


def test_lambda_invoke_hook_point_is_unchanged() -> None:
    from moto.awslambda.models import LambdaFunction

    parameters = list(inspect.signature(LambdaFunction.invoke).parameters)
    assert parameters == ["self", "body", "request_headers", "response_headers"]
    # The responses call fn.invoke for sync and async invokes; the backend calls it for sync.
    from moto.awslambda import models, responses

    assert "fn.invoke(body, headers, response_headers)" in inspect.getsource(
        models.LambdaBackend.invoke
    )
    assert "fn.invoke(self.body, self.headers, response_headers)" in inspect.getsource(
        responses.LambdaResponse.invoke_async
    )


def test_lambda_create_hook_points_are_unchanged() -> None:
    from moto.awslambda import models, responses

    # lambda_runtime checks names in these; the responses hand them the request body as spec.
    for method in (
        models.LambdaBackend.create_function,
        models.LambdaBackend.publish_layer_version,
    ):
        assert list(inspect.signature(method).parameters) == ["self", "spec"]
    assert "self.backend.create_function(self.json_body)" in inspect.getsource(
        responses.LambdaResponse.create_function
    )
    assert "self.backend.publish_layer_version(spec)" in inspect.getsource(
        responses.LambdaResponse.publish_layer_version
    )


def test_stepfunctions_patch_points_are_unchanged() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.responses import StepFunctionResponse

    assert not hasattr(StepFunctionResponse, "validate_state_machine_definition") or getattr(
        StepFunctionResponse.validate_state_machine_definition, "__module__", ""
    ).startswith("localcloud")
    assert not hasattr(StepFunctionResponse, "list_state_machine_versions") or getattr(
        StepFunctionResponse.list_state_machine_versions, "__module__", ""
    ).startswith("localcloud")
    assert list(inspect.signature(StepFunctionResponse._describe_state_machine).parameters) == [
        "self",
        "state_machine_arn",
    ]
    assert isinstance(
        inspect.getattr_static(StepFunctionResponse, "stepfunction_backend"), property
    )
    start = list(inspect.signature(StepFunctionsParserBackend.start_execution).parameters)
    assert start[:3] == ["self", "state_machine_arn", "name"]
    assert isinstance(
        inspect.getattr_static(StepFunctionsParserBackend, "_validate_definition"), staticmethod
    )


def test_stepfunctions_interpreter_still_maps_errortype_to_the_error_name() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_lambda,
    )

    assert 'cause_object["errorType"]' in inspect.getsource(state_task_service_lambda)
    # Our client cache replaces this name, which the Lambda task calls at every invocation.
    source = inspect.getsource(lambda_eval_utils)
    assert "lambda_client = boto_client_for(" in source


def test_patch_attribute_refuses_a_missing_target() -> None:
    class Target:
        existing = 1

    with pytest.raises(MotoVersionError, match="no longer has"):
        patch_attribute(Target, "renamed", 2)
    with pytest.raises(MotoVersionError, match="now has its own"):
        patch_attribute(Target, "existing", 2, replaces=False)


def test_policy_evaluation_patch_points_are_unchanged() -> None:
    from moto.iam import policy_conditions
    from moto.iam.access_control import IAMPolicyStatement

    parameters = list(inspect.signature(IAMPolicyStatement.is_action_permitted).parameters)
    assert parameters == ["self", "action", "resource", "principal", "incoming_condition_values"]
    assert hasattr(IAMPolicyStatement, "_check_conditions")
    # If moto gains its own Bool operator, drop ours (setdefault would silently keep moto's).
    bool_operation = policy_conditions.CONDITION_OPERATIONS.get("Bool")
    assert bool_operation is None or bool_operation.__module__ == "localcloud.s3_policies"


def test_eventbridge_patch_points_are_unchanged() -> None:
    from moto.events.models import Rule
    from moto.s3 import notifications

    send = Rule.send_to_targets
    if not send.__module__.startswith("localcloud"):  # unpatched in this process
        assert list(inspect.signature(send).parameters) == [
            "self",
            "original_event",
            "transform_input",
        ]
        # Still no Step Functions delivery of its own: eventbridge.py adds it.
        assert "states" not in inspect.getsource(send)
    bridge = notifications._send_event_bridge_message
    if not bridge.__module__.startswith("localcloud"):
        assert list(inspect.signature(bridge).parameters) == [
            "account_id",
            "bucket",
            "event_name",
            "key",
        ]
    assert "_send_event_bridge_message(account_id, bucket, event_name, key)" in inspect.getsource(
        notifications.send_event
    )


def test_application_autoscaling_patch_points_are_unchanged() -> None:
    # The module's source file, not the (possibly patched) class: what moto itself ships.
    from moto.applicationautoscaling import responses

    source = inspect.getsource(responses)
    # application_autoscaling reads the new target's ARN from register's JSON answer ...
    assert 'return json.dumps({"ScalableTargetARN": target.arn})' in source
    # ... and adds the tagging actions moto lacks; moto gaining its own needs a review.
    for action in ("tag_resource", "untag_resource", "list_tags_for_resource"):
        assert f"def {action}(" not in source, action
