"""Batch augmentation on tensors: random crop from a reflect-padded image, horizontal flip."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 (the usual alias)

PADDING = 4


def crop_and_flip(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A random same-size crop of each image (shifted up to PADDING pixels), mirrored at random."""
    n, channels, height, width = batch.shape
    padded = F.pad(batch, (PADDING, PADDING, PADDING, PADDING), mode="reflect")
    top = torch.randint(0, 2 * PADDING + 1, (n,), generator=generator)
    left = torch.randint(0, 2 * PADDING + 1, (n,), generator=generator)
    # One gather for the whole batch instead of a Python loop over images.
    rows = (top[:, None] + torch.arange(height))[:, None, :, None]
    cols = (left[:, None] + torch.arange(width))[:, None, None, :]
    cropped = padded[
        torch.arange(n)[:, None, None, None],
        torch.arange(channels)[None, :, None, None],
        rows,
        cols,
    ]
    mirror = torch.rand(n, generator=generator) < 0.5
    return torch.where(mirror[:, None, None, None], cropped.flip(3), cropped)


def jitter_colour(
    batch: torch.Tensor, generator: torch.Generator, strength: float = 0.2
) -> torch.Tensor:
    """Random brightness and contrast per image, on normalised input."""
    n = batch.shape[0]
    scale = 1.0 + strength * (2 * torch.rand(n, 1, 1, 1, generator=generator) - 1)
    shift = strength * (2 * torch.rand(n, 1, 1, 1, generator=generator) - 1)
    return batch * scale + shift
