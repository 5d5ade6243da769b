"""Decoding an uploaded photo safely and normalising it to the model's input PNG."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import cast

from PIL import Image, ImageOps

from common.errors import InvalidImage

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"

# Pillow raises these for damaged or hostile files; each one means "not a usable image".
_DECODE_ERRORS = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    SyntaxError,  # Pillow's PNG plugin reports broken chunks and bad CRCs this way
    ValueError,
    EOFError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


@dataclass(frozen=True)
class NormalisedImage:
    """The model's input and what the source was, for the log and for messages."""

    png: bytes
    source_format: str
    source_mode: str
    source_size: tuple[int, int]


def sniff_format(data: bytes) -> str | None:
    """ "PNG" or "JPEG" from the magic bytes (the key's extension is not evidence)."""
    if data.startswith(PNG_SIGNATURE):
        return "PNG"
    if data.startswith(JPEG_SIGNATURE):
        return "JPEG"
    return None


def normalise(data: bytes, *, size: int, max_pixels: int, source: str) -> NormalisedImage:
    """Decode a PNG or JPEG and return it as a `size` x `size` RGB PNG, deterministically.

    Non-square images are centre-cropped to a square first, so vehicles keep their proportions
    (the model was trained on square CIFAR images). Transparent pixels are composited on white,
    the usual background of product photos, rather than dropping alpha and exposing whatever
    colour the transparent pixels happen to hold. EXIF orientation is applied, because phones
    store portrait photos sideways and rely on the viewer to rotate them.
    """
    kind = sniff_format(data)
    if kind is None:
        raise InvalidImage(
            f"{source} is not a PNG or JPEG (it starts with {data[:8]!r}, {len(data)} bytes); "
            "upload a PNG or JPEG photo"
        )
    # Pillow only reads the global; set it on every call so the configured limit always applies.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            # Between 1x and 2x the limit Pillow only warns; treat that as a bomb too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # open() reads only the header: a bomb is rejected here, before any pixel buffer.
            with Image.open(io.BytesIO(data), formats=[kind]) as opened:
                source_mode, source_size = opened.mode, opened.size
                image = _decode(opened, size=size)
    except InvalidImage:
        raise
    except _DECODE_ERRORS as exc:
        raise InvalidImage(
            _decode_message(exc, source=source, kind=kind, max_pixels=max_pixels)
        ) from exc
    return NormalisedImage(
        png=_to_png(image),
        source_format=kind,
        source_mode=source_mode,
        source_size=source_size,
    )


def _decode(opened: Image.Image, *, size: int) -> Image.Image:
    width, height = opened.size
    if opened.format == "JPEG":
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale (still at least `size`): a 12-megapixel
        # photo then costs a fraction of the memory and time of a full decode.
        opened.draft("RGB", (size, size))
    opened.load()
    image = ImageOps.exif_transpose(opened)
    image = _to_rgb_or_rgba(image)
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    image = image.resize(
        (size, size),
        Image.Resampling.LANCZOS,
        box=(left, top, left + side, top + side),
        reducing_gap=3.0,
    )
    if image.mode == "RGBA":
        # After the resize: Pillow resizes RGBA premultiplied, and compositing 32x32 is cheap.
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image).convert("RGB")
    return image


def _to_rgb_or_rgba(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        # Pillow clips 16-bit and float samples to 0..255 when converting; scale them instead.
        image = _scale_to_8bit(image)
    if image.has_transparency_data:
        return image.convert("RGBA")
    return image.convert("RGB")


def _scale_to_8bit(image: Image.Image) -> Image.Image:
    wide = image.convert("F")
    # A single-band image's extrema are one (min, max) pair of numbers.
    low, high = (float(v) for v in cast(tuple[float, float], wide.getextrema()))
    if low >= 0.0 and high <= 255.0:
        return wide.convert("L")
    factor = 255.0 / (high - low) if high > low else 0.0
    return wide.point(lambda value: (value - low) * factor).convert("L")


def _to_png(image: Image.Image) -> bytes:
    # A fresh image from the raw pixels carries no metadata (ICC profile, text, gamma), so the
    # output depends on the pixels alone and the same input always gives the same bytes.
    clean = Image.frombytes("RGB", image.size, image.tobytes())
    buffer = io.BytesIO()
    clean.save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


def _decode_message(exc: BaseException, *, source: str, kind: str, max_pixels: int) -> str:
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return (
            f"{source} claims more pixels than the limit of {max_pixels} "
            f"(MAX_IMAGE_PIXELS) and was rejected as a possible decompression bomb: {exc}"
        )
    return f"{source} looks like a {kind} but cannot be decoded ({type(exc).__name__}: {exc})"
