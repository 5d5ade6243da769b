"""AWS's name rules: what they admit, and the messages AWS words its refusals in."""

from __future__ import annotations

import pytest

from localcloud import names


@pytest.mark.parametrize(
    "name",
    [
        "classify",
        "serialize_image-data",
        "arn:aws:lambda:us-east-1:123456789012:function:classify",
        "123456789012:function:classify",
        "a" * 64,
    ],
)
def test_function_names_aws_accepts_pass(name: str) -> None:
    assert names.function_name_violations(name) == []


def test_a_bare_function_name_is_limited_to_64_characters() -> None:
    assert names.function_name_violations("a" * 65) == [
        f"Value '{'a' * 65}' at 'functionName' failed to satisfy constraint: Member must have "
        "length less than or equal to 64"
    ]


def test_sagemaker_message_matches_aws() -> None:
    violations = names.TRAINING_JOB_NAME.violations("../x")
    assert names.message(violations) == (
        "1 validation error detected: Value '../x' at 'trainingJobName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
        "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
    )


def test_several_violations_are_counted_in_one_message() -> None:
    violations = names.TRAINING_JOB_NAME.violations("-" * 64)
    assert len(violations) == 2
    assert names.message(violations).startswith("2 validation errors detected: Value '")


def test_channel_names_dot_and_dotdot_match_aws_pattern_but_are_refused() -> None:
    assert names.CHANNEL_NAME.violations("..") == []
    found = names.channel_folder_violations([{"ChannelName": "train"}, {"ChannelName": ".."}])
    assert len(found) == 1 and "inputDataConfig.2.member.channelName" in found[0]
    assert names.channel_folder_violations([{"ChannelName": "train_lst.v2"}]) == []


@pytest.mark.parametrize(
    ("rule", "good"),
    [
        (names.MODEL_NAME, "vehicle-model-1"),
        (names.ENDPOINT_NAME, "vehicle-endpoint"),
        (names.ENDPOINT_CONFIG_NAME, "vehicle-config-2"),
        (names.LAYER_NAME, "shared_layer-1"),
    ],
)
def test_other_rules_admit_plain_names_and_refuse_paths(rule: names.NameRule, good: str) -> None:
    assert rule.violations(good) == []
    for bad in ("..", "../x", "a/b", "/tmp/x", "", None):
        assert rule.violations(bad), bad
