"""The validation split: deterministic, stratified, disjoint from train."""

from __future__ import annotations

import numpy as np
import pytest

from training.dataset.imageset import ImageSet
from training.dataset.split import split_train, validation_mask


def image_set(count_per_class: int) -> ImageSet:
    labels = np.array([0] * count_per_class + [1] * count_per_class, dtype=np.int64)
    names = tuple(f"img_{i:04d}.png" for i in range(2 * count_per_class))
    return ImageSet(np.zeros((len(names), 32, 32, 3), dtype=np.uint8), labels, names)


def test_ten_percent_of_each_class_and_stable():
    images = image_set(500)
    mask = validation_mask(images, 0.1, seed=0)
    assert int(mask[:500].sum()) == 50 and int(mask[500:].sum()) == 50
    np.testing.assert_array_equal(mask, validation_mask(images, 0.1, seed=0))
    assert not np.array_equal(mask, validation_mask(images, 0.1, seed=1))


def test_split_does_not_depend_on_listing_order():
    images = image_set(20)
    reversed_images = ImageSet(images.images[::-1], images.labels[::-1], images.filenames[::-1])
    held = {n for n, m in zip(images.filenames, validation_mask(images, 0.2, 3), strict=True) if m}
    held_rev = {
        n
        for n, m in zip(
            reversed_images.filenames, validation_mask(reversed_images, 0.2, 3), strict=True
        )
        if m
    }
    assert held == held_rev


def test_split_train_is_disjoint_and_keeps_test():
    splits = {"train": image_set(10), "test": image_set(2)}
    channels = split_train(splits, 0.2, seed=0)
    assert set(channels["train"].filenames).isdisjoint(channels["validation"].filenames)
    assert len(channels["train"]) + len(channels["validation"]) == 20
    assert channels["test"] is splits["test"]


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_fraction_must_be_a_proper_fraction(fraction):
    with pytest.raises(ValueError, match="between 0 and 1"):
        validation_mask(image_set(4), fraction, 0)
