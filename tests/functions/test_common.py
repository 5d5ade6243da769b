"""The shared package of the handlers: config readers, event model, probabilities, imaging."""

from __future__ import annotations

import ast
import base64
import io
import json
import sys

import pytest
from PIL import Image

from common import aws
from common.config import env_int, env_probability, env_str
from common.errors import ConfigurationError, FunctionError, InvalidEvent, InvalidImage
from common.events import decode_image_data, parse_event
from common.imaging import normalise, sniff_format
from common.inference import CLASSES, parse_probabilities, top_prediction
from common.log import LOG_FIELDS, log_invocation
from common.metrics import Metric, MetricSet
from tests.support.lambda_kit import FUNCTIONS_DIR, REPO_ROOT, image_bytes


def test_every_named_error_is_a_function_error() -> None:
    import common.errors as errors

    named = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    assert {
        "InvalidEvent",
        "ImageNotFound",
        "ImageAccessDenied",
        "InvalidImage",
        "ImageTooLarge",
        "StorageUnavailable",
        "EndpointUnavailable",
        "EndpointNotFound",
        "InvalidModelResponse",
        "ThresholdConfidenceNotMet",
        "ConfigurationError",
    } <= named
    assert all(issubclass(getattr(errors, name), FunctionError) for name in named)


def test_env_int_default_range_and_garbage(monkeypatch: pytest.MonkeyPatch) -> None:
    assert env_int("X_TEST_INT", 7, minimum=1, maximum=10) == 7
    monkeypatch.setenv("X_TEST_INT", "10_000")
    with pytest.raises(ConfigurationError, match="out of range"):
        env_int("X_TEST_INT", 7, minimum=1, maximum=10)
    monkeypatch.setenv("X_TEST_INT", "seven")
    with pytest.raises(ConfigurationError, match="not an integer"):
        env_int("X_TEST_INT", 7, minimum=1, maximum=10)


def test_env_probability_accepts_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_TEST_P", "1.0")
    assert env_probability("X_TEST_P", 0.5) == 1.0


def test_env_str_required(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="is not set"):
        env_str("X_TEST_S", pattern=".+", requirement="anything")


def test_parse_event_keeps_every_field() -> None:
    event = {"s3_bucket": "b", "s3_key": "k", "image_data": None, "extra": [1]}
    parsed = parse_event(event)
    assert parsed.image_data == ""
    assert parsed.to_event(inferences=[]) == {**event, "inferences": []}
    assert parsed.source == "s3://b/k"


def test_wrong_value_in_message_is_shortened() -> None:
    with pytest.raises(InvalidEvent) as raised:
        parse_event({"s3_bucket": "b", "s3_key": ["x" * 1000]})
    assert len(str(raised.value)) < 200


def test_oversized_image_data_is_refused_before_decoding() -> None:
    event = parse_event({"s3_bucket": "b", "s3_key": "k", "image_data": "A" * 10_000})
    with pytest.raises(InvalidEvent, match="more than an image"):
        decode_image_data(event, max_bytes=1000)
    small = base64.b64encode(b"x" * 1000).decode()
    assert decode_image_data(parse_event({**event.raw, "image_data": small}), max_bytes=1000)


def test_probabilities_and_ties() -> None:
    assert CLASSES == ("bicycle", "motorcycle")
    assert top_prediction(parse_probabilities([0.5, 0.5])).label == "bicycle"
    assert top_prediction(parse_probabilities((0, 1))).confidence == 1.0
    with pytest.raises(ValueError, match="not a number"):
        parse_probabilities([None, 1.0])


def test_sniff_format_ignores_names_and_trusts_bytes() -> None:
    assert sniff_format(image_bytes(fmt="PNG")) == "PNG"
    assert sniff_format(image_bytes(fmt="JPEG")) == "JPEG"
    assert sniff_format(b"GIF89a") is None
    assert sniff_format(b"") is None


def test_exif_orientation_is_applied() -> None:
    # A landscape JPEG tagged "rotate 90": the model must see it upright (portrait).
    image = Image.new("RGB", (64, 32), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 32, 32))  # the left half is white
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes(), quality=95)
    result = normalise(buffer.getvalue(), size=8, max_pixels=10**6, source="s3://b/k")
    upright = Image.open(io.BytesIO(result.png))
    # After the rotation the white half is on top; the centre crop keeps a white top half.
    top = upright.crop((0, 0, 8, 2)).getcolors()
    bottom = upright.crop((0, 6, 8, 8)).getcolors()
    assert top is not None and bottom is not None
    assert min(color[0] for _, color in top) > 200
    assert max(color[0] for _, color in bottom) < 60


def test_sixteen_bit_grayscale_is_scaled_not_clipped() -> None:
    image = Image.new("I;16", (16, 16), 0)
    image.paste(40_000, (0, 0, 8, 16))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    result = normalise(buffer.getvalue(), size=16, max_pixels=10**6, source="s3://b/k")
    pixels = Image.open(io.BytesIO(result.png)).convert("L")
    assert pixels.getpixel((0, 0)) == 255
    assert pixels.getpixel((15, 0)) == 0


def test_invalid_image_message_names_the_source() -> None:
    with pytest.raises(InvalidImage, match=r"s3://bucket/key\.png"):
        normalise(
            b"\x89PNG\r\n\x1a\nrubbish", size=32, max_pixels=100, source="s3://bucket/key.png"
        )


def test_functions_import_nothing_from_outside_functions() -> None:
    """Only the stdlib, the Lambda runtime's boto3, the layer's Pillow and `common` itself."""
    allowed = set(sys.stdlib_module_names) | {"common", "boto3", "botocore", "PIL"}
    for path in sorted(FUNCTIONS_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.relative_to(REPO_ROOT)}: {name}"


def test_emf_members_follow_the_specification() -> None:
    metrics = MetricSet(
        namespace="Ns/Test",
        dimensions={"Service": "svc", "Stage": "dev"},
        metrics=(Metric("Hits", 3, "Count"), Metric("Latency", 1.5, "Milliseconds")),
    )
    assert metrics.members(1_700_000_000_123) == {
        "_aws": {
            "Timestamp": 1_700_000_000_123,
            "CloudWatchMetrics": [
                {
                    "Namespace": "Ns/Test",
                    "Dimensions": [["Service", "Stage"]],
                    "Metrics": [
                        {"Name": "Hits", "Unit": "Count"},
                        {"Name": "Latency", "Unit": "Milliseconds"},
                    ],
                }
            ],
        },
        "Service": "svc",
        "Stage": "dev",
        "Hits": 3,
        "Latency": 1.5,
    }


@pytest.mark.parametrize(
    ("namespace", "dimensions", "metrics", "match"),
    [
        ("", {}, (Metric("A", 1),), "namespace"),
        ("N", {f"D{i}": "v" for i in range(31)}, (Metric("A", 1),), "at most 30 dimensions"),
        ("N", {}, tuple(Metric(f"M{i}", 1) for i in range(101)), "1 to 100 metrics"),
        ("N", {}, (), "1 to 100 metrics"),
        ("N", {"Service": " "}, (Metric("A", 1),), "non-blank string"),
        ("N", {}, (Metric("A", 1, "Apples"),), "unknown unit"),
        ("N", {}, (Metric("A", float("nan")),), "finite"),
        ("N", {"A": "x"}, (Metric("A", 1),), "must differ"),
    ],
)
def test_invalid_metric_sets_are_refused(
    namespace: str, dimensions: dict[str, str], metrics: tuple[Metric, ...], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        MetricSet(namespace=namespace, dimensions=dimensions, metrics=metrics)


def test_log_fields_name_the_members_of_every_line(capsys: pytest.CaptureFixture[str]) -> None:
    with log_invocation("f", {"s3_bucket": "b", "s3_key": "k"}, None):
        pass
    (line,) = (json.loads(text) for text in capsys.readouterr().out.splitlines())
    assert tuple(line) == LOG_FIELDS


def test_metrics_may_not_overwrite_log_fields() -> None:
    with log_invocation("f", {}, None) as record:
        clashing = MetricSet(namespace="N", dimensions={}, metrics=(Metric("confidence", 1),))
        with pytest.raises(ValueError, match="clash"):
            record.attach_metrics(clashing)
        assert record.metrics is None


def test_the_invoke_endpoint_retry_budget() -> None:
    # Issue 12: at most 6 InvokeEndpoint calls per image during an outage, all retries counted.
    runtime = aws.client_config("sagemaker-runtime").retries
    assert runtime == {"mode": "standard", "total_max_attempts": 2}
    assert (
        runtime["total_max_attempts"] * aws.WORKFLOW_ENDPOINT_ATTEMPTS
        == aws.INVOKE_ENDPOINT_BUDGET
        == 6
    )
    # S3 keeps 3 attempts: a retried GetObject costs nothing like an inference.
    assert aws.client_config("s3").retries == {"mode": "standard", "total_max_attempts": 3}


def test_the_clients_are_built_with_their_service_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws.reset_clients()
    try:
        runtime, s3 = aws.client("sagemaker-runtime"), aws.client("s3")
        assert runtime.meta.config.retries["total_max_attempts"] == 2
        assert s3.meta.config.retries["total_max_attempts"] == 3
        assert (runtime.meta.config.connect_timeout, runtime.meta.config.read_timeout) == (3, 10)
        assert aws.client("sagemaker-runtime") is runtime  # one per container
    finally:
        aws.reset_clients()
