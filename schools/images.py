"""Turning an uploaded pupil photo into a safe, small, anonymous tile picture.

Every upload is treated as hostile. It is size-limited, checked for decompression
bombs from the header before any pixel is decoded, opened only as JPEG, PNG, WebP
or GIF, verified, and then redrawn from its pixels alone: the result is a fresh
square JPEG without EXIF (GPS!), ICC profile or comments, stored under a random
name that never echoes the uploaded file name.
"""

from __future__ import annotations

import contextlib
import io
import uuid
import warnings
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 25_000_000
MIN_SIDE = 64
SIZE = 320
JPEG_QUALITY = 85
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# Pillow reports some phone JPEGs (several pictures in one file) as MPO.
_JPEG_FORMATS = ("JPEG", "MPO")

_READ_CHUNK = 64 * 1024


def _too_large() -> ValidationError:
    return ValidationError(
        _("Deze foto is te groot: kies een bestand tot %(max_mb)s MB."),
        code="too_large",
        params={"max_mb": max(1, MAX_UPLOAD_BYTES // (1024 * 1024))},
    )


def _too_many_pixels() -> ValidationError:
    return ValidationError(
        _(
            "Deze foto heeft te veel pixels om veilig te verwerken. "
            "Kies een kleinere foto (hoogstens %(max_mp)s megapixels)."
        ),
        code="too_many_pixels",
        params={"max_mp": max(1, MAX_PIXELS // 1_000_000)},
    )


def _not_an_image() -> ValidationError:
    return ValidationError(
        _("Dit bestand is geen foto die we kunnen lezen. Kies een JPG-, PNG- of WebP-bestand."),
        code="not_an_image",
    )


def _too_small() -> ValidationError:
    return ValidationError(
        _("Deze foto is te klein: kies een foto van minstens %(min)s bij %(min)s pixels."),
        code="too_small",
        params={"min": MIN_SIDE},
    )


def _read_bounded(upload: Any) -> bytes:
    """Read the whole upload, but never more than one byte past MAX_UPLOAD_BYTES."""
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > MAX_UPLOAD_BYTES:
        raise _too_large()
    # A stream that cannot seek is read from where it is.
    with contextlib.suppress(AttributeError, OSError, ValueError):
        upload.seek(0)
    chunks: list[bytes] = []
    total = 0
    while total <= MAX_UPLOAD_BYTES:
        chunk = upload.read(min(_READ_CHUNK, MAX_UPLOAD_BYTES + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > MAX_UPLOAD_BYTES:
        raise _too_large()
    return b"".join(chunks)


def _open(data: bytes) -> Image.Image:
    """Open ``data`` lazily (header only) as one of the accepted formats."""
    image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    if image.format not in (*ACCEPTED_FORMATS, *_JPEG_FORMATS):
        image.close()
        raise _not_an_image()
    return image


def _check_dimensions(image: Image.Image) -> None:
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_many_pixels()
    if min(width, height) < MIN_SIDE:
        raise _too_small()


def _decode(data: bytes) -> Image.Image:
    """Check and fully decode the first frame; every failure becomes a ValidationError."""
    try:
        # Pillow's own bomb check warns above Image.MAX_IMAGE_PIXELS and raises above
        # twice that; treat both as refusal. (catch_warnings is process-wide, not per
        # thread, but MAX_PIXELS is far lower, so _check_dimensions refuses such a file too.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _open(data) as probe:
                _check_dimensions(probe)
                probe.verify()
            image = _open(data)  # verify() leaves the image unusable: open it again
            _check_dimensions(image)
            if image.format in _JPEG_FORMATS:
                # Let libjpeg decode at a reduced scale (never below SIZE) to save memory.
                image.draft("RGB", (SIZE, SIZE))
            image.seek(0)  # animations and MPO: the first frame only
            image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except Exception:
        # Hostile input can make a decoder fail in many ways (OSError, SyntaxError,
        # ValueError, struct.error, EOFError, ...): none of them is a usable photo.
        raise _not_an_image() from None
    return image


def _upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        return image  # unreadable EXIF: keep the pixels as they are


def _shrink(image: Image.Image) -> Image.Image:
    """Scale down by a whole factor first, so later steps never touch every source pixel.

    A small PNG can unpack to tens of megapixels; converting that at full size would take
    hundreds of MiB.
    """
    factor = min(image.size) // SIZE
    if factor < 2:
        return image
    if image.mode in ("P", "PA", "1"):
        image = image.convert("RGBA")
    try:
        return image.reduce(factor)
    except ValueError:  # a mode reduce() does not handle: keep the full-size image
        return image


def _flatten_to_rgb(image: Image.Image) -> Image.Image:
    """RGB pixels only; transparent areas become white."""
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit greyscale PNG: scale down to 8 bits instead of clipping to white.
        image = image.convert("I").point(lambda v: v / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def process_avatar(upload: Any) -> ContentFile:
    """Validate an uploaded photo and return it as a clean SIZE x SIZE JPEG.

    ``upload`` is a Django ``UploadedFile`` or any file-like object with ``read()``
    (``size`` and ``seek()`` are used when present). Raises ``ValidationError`` with
    code "too_large", "too_many_pixels", "not_an_image" or "too_small".
    """
    data = _read_bounded(upload)
    if not data:
        raise _not_an_image()
    image = _decode(data)
    try:
        square = ImageOps.fit(
            _flatten_to_rgb(_upright(_shrink(image))),
            (SIZE, SIZE),
            method=Image.Resampling.LANCZOS,
            centering=(0.5, 0.5),
        )
    except Exception:
        raise _not_an_image() from None
    finally:
        image.close()
    # Copy the pixels into a brand-new image so no metadata (info: exif, icc_profile,
    # comment, dpi, ...) can travel along into the saved file.
    clean = Image.new("RGB", square.size)
    clean.paste(square)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.jpg")
