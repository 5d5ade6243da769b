"""Metrics of the evaluation report: accuracy, precision/recall, confusion, confidence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

HISTOGRAM_BINS = 10


def report(
    classes: Sequence[str], labels: Sequence[int], probabilities: Sequence[Sequence[float]]
) -> dict[str, Any]:
    """The report as a JSON-ready dict; confusion[true][predicted] counts images."""
    size = len(classes)
    confusion = [[0] * size for _ in range(size)]
    confidences: list[float] = []
    for label, probs in zip(labels, probabilities, strict=True):
        predicted = max(range(size), key=lambda k: probs[k])
        confusion[label][predicted] += 1
        confidences.append(float(probs[predicted]))
    total = len(labels)
    correct = sum(confusion[k][k] for k in range(size))
    per_class: dict[str, dict[str, float | int]] = {}
    for k, name in enumerate(classes):
        predicted_k = sum(confusion[t][k] for t in range(size))
        actual_k = sum(confusion[k])
        per_class[name] = {
            "precision": confusion[k][k] / predicted_k if predicted_k else 0.0,
            "recall": confusion[k][k] / actual_k if actual_k else 0.0,
            "support": actual_k,
        }
    # Confidence is at least 1/size, so the bins cover [1/size, 1].
    low = 1.0 / size
    width = (1.0 - low) / HISTOGRAM_BINS
    counts = [0] * HISTOGRAM_BINS
    for confidence in confidences:
        counts[min(HISTOGRAM_BINS - 1, max(0, int((confidence - low) / width)))] += 1
    edges = [round(low + i * width, 6) for i in range(HISTOGRAM_BINS + 1)]
    return {
        "images": total,
        "accuracy": correct / total if total else 0.0,
        "classes": list(classes),
        "per_class": per_class,
        "confusion_matrix": {
            "rows": "true class",
            "columns": "predicted class",
            "counts": confusion,
        },
        "confidence_histogram": {"edges": edges, "counts": counts},
    }


def summary_table(result: dict[str, Any]) -> str:
    """A plain-text table of the report for the terminal."""
    classes: list[str] = result["classes"]
    lines = [
        f"images {result['images']}   accuracy {result['accuracy']:.4f}",
        "",
        f"{'class':<12}{'precision':>10}{'recall':>10}{'support':>9}",
    ]
    for name in classes:
        row = result["per_class"][name]
        lines.append(
            f"{name:<12}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['support']:>9}"
        )
    lines += [
        "",
        "confusion (rows true, columns predicted)",
        " " * 12 + "".join(f"{c:>12}" for c in classes),
    ]
    for name, counts in zip(classes, result["confusion_matrix"]["counts"], strict=True):
        lines.append(f"{name:<12}" + "".join(f"{n:>12}" for n in counts))
    histogram = result["confidence_histogram"]
    lines += ["", "confidence of the predicted class"]
    for i, count in enumerate(histogram["counts"]):
        low, high = histogram["edges"][i], histogram["edges"][i + 1]
        lines.append(f"  {low:.2f}-{high:.2f} {count:>5} {'#' * count}")
    return "\n".join(lines)
