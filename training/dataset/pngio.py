"""Deterministic PNG encoding: same pixels, same bytes (for a given zlib build)."""

from __future__ import annotations

import io

from PIL import Image

from training.dataset.imageset import Pixels

# Fixed so that output bytes do not change with Pillow's default; no pnginfo, so no metadata
# (no timestamps) is written.
COMPRESS_LEVEL = 6


def encode_png(pixels: Pixels) -> bytes:
    """Encode an (H, W, 3) uint8 array as an 8-bit RGB PNG."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(
        buffer, format="PNG", compress_level=COMPRESS_LEVEL, optimize=False
    )
    return buffer.getvalue()
