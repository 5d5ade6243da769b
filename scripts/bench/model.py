"""Model benchmark: training time, accuracy on the test images and inference latency."""

from __future__ import annotations

import time

from scripts.bench.results import Measure, latency_measures
from scripts.bench.stack import Deployment


def run(quick: bool, deployment: Deployment) -> list[Measure]:
    from training.evaluate import endpoint_predictor, split_images
    from training.labels import CLASSES
    from training.metrics import report

    stack = deployment.stack()
    images = split_images(stack.data, "test")
    predict = endpoint_predictor(stack.client("sagemaker-runtime"), stack.endpoint_name)
    predict(images[0][0].read_bytes(), "image/png")  # the first call loads the model
    labels, probabilities, latencies = [], [], []
    for path, label in images:
        body = path.read_bytes()
        began = time.perf_counter()
        probabilities.append(predict(body, "image/png"))
        latencies.append(time.perf_counter() - began)
        labels.append(label)
    result = report(CLASSES, labels, probabilities)
    training = deployment.training
    return [
        Measure("model.training_s", deployment.timings["train"], "s", note=training),
        Measure(
            "model.accuracy",
            round(float(result["accuracy"]), 4),
            "fraction",
            note=f"{len(images)} test images through the endpoint; {training}",
        ),
        *latency_measures("model.invoke_endpoint.latency", latencies)[:2],
    ]
