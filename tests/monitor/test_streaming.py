"""100,000 records streamed through the aggregation: every one counted, memory bounded."""

from __future__ import annotations

import base64
import pickle
import tracemalloc

import pytest

from scripts.monitor.aggregate import LOWEST_KEPT, TIMELINE_SAMPLES, Aggregate
from scripts.monitor.joins import JoinIndex, Outcome, image_digest
from scripts.monitor.pipeline import consume
from tests.support.monitor_kit import noise_png, png, stream


@pytest.mark.slow
def test_100k_records_are_all_counted_in_state_that_does_not_grow() -> None:
    count = 100_000
    images = [png((n, 0, 0), size=32) for n in range(8)]
    digest = image_digest(base64.b64encode(images[0]).decode())
    assert digest is not None
    index = JoinIndex(by_image={digest: Outcome("SUCCEEDED", "test/a.png")})
    small, large = Aggregate(threshold=0.93), Aggregate(threshold=0.93)
    consume(stream(count // 10, images), small, index)
    consume(stream(count, images), large, index)

    assert large.records == sum(large.histogram) == count
    assert large.joined == count // len(images)
    expected_hours = [0] * 24
    for n in range(count):  # where tests.support.monitor_kit.stream puts record n
        expected_hours[(n * 86400 // count) // 3600] += 1
    assert large.hour_count == expected_hours
    assert (len(large.timeline), len(large.lowest())) == (TIMELINE_SAMPLES, LOWEST_KEPT)
    # Ten times the records, the same state: the aggregation is O(1) in memory.
    assert len(pickle.dumps(large)) < 1.1 * len(pickle.dumps(small))


@pytest.mark.slow
def test_peak_memory_is_far_below_the_data_streamed() -> None:
    images = [noise_png(seed) for seed in range(16)]
    count = 10_000  # about 50 MB of capture lines; tracing makes 100k take too long
    aggregate = Aggregate(threshold=0.93)
    tracemalloc.start()
    try:
        consume(stream(count, images), aggregate)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert aggregate.records == count
    assert peak < 2 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
