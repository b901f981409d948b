"""Checking an uploaded picture before it is stored, and resizing it for the web."""

import io
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
RENDITION_WIDTHS = (480, 960, 1440)
ENCODER_OPTIONS = {
    "WEBP": {"quality": 80, "method": 4},
    "JPEG": {"quality": 82, "optimize": True, "progressive": True},
    "PNG": {"optimize": True},
}


def _max_bytes() -> int:
    return settings.TREATMENT_IMAGE_MAX_BYTES


def _max_pixels() -> int:
    return settings.TREATMENT_IMAGE_MAX_PIXELS


def image_upload_check(upload: UploadedFile) -> None:
    """Refuse anything but a readable JPEG, PNG or WebP of a sensible size, with a reason staff understand."""
    if upload.size > _max_bytes():
        raise ValidationError(
            "This file is %(size)s; pictures must be %(limit)s or smaller. "
            "Export a smaller copy and try again.",
            code="file_too_large",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(_max_bytes())},
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            _check_header(upload)
            # verify() reads the structure only; decoding every pixel also catches truncated files.
            upload.seek(0)
            with Image.open(upload) as image:
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            "This file is not a picture we can read (it may be damaged or another kind of file). "
            "Upload a JPEG, PNG or WebP image.",
            code="not_an_image",
        ) from None
    finally:
        upload.seek(0)


def _check_header(upload: UploadedFile) -> None:
    """Format and dimensions, read before any pixel is decoded."""
    with Image.open(upload) as image:
        image_format, (width, height) = image.format, image.size
        image.verify()
    if image_format not in ACCEPTED_FORMATS:
        raise ValidationError(
            "%(format)s pictures are not accepted. Upload a JPEG, PNG or WebP image.",
            code="format_not_accepted",
            params={"format": image_format},
        )
    if width * height > _max_pixels():
        raise _too_many_pixels(width, height)


def _too_many_pixels(width: int | None = None, height: int | None = None) -> ValidationError:
    size = f" ({width} × {height} pixels)" if width else ""
    return ValidationError(
        "This picture is too large%(size)s. Resize it to at most %(megapixels)s megapixels and try again.",
        code="too_many_pixels",
        params={"size": size, "megapixels": _max_pixels() // 1_000_000 or 1},
    )


def rendition_widths(original_width: int) -> list[int]:
    """The widths to make: the standard ones, never wider than the original (no upscaling)."""
    return sorted({min(width, original_width) for width in RENDITION_WIDTHS})


def has_transparency(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def open_upright(file) -> Image.Image:
    """Open a stored picture, turned the way the camera meant it (EXIF orientation)."""
    with Image.open(file) as image:
        return ImageOps.exif_transpose(image)


def resized_bytes(image: Image.Image, width: int, image_format: str) -> tuple[bytes, int]:
    """Encode `image` scaled to `width` as WebP, JPEG or PNG; returns the bytes and the new height."""
    height = max(1, round(image.height * width / image.width))
    resized = image if width == image.width else image.resize((width, height), Image.Resampling.LANCZOS)
    if image_format == "JPEG":
        resized = resized.convert("RGB")
    elif resized.mode not in ("RGB", "RGBA"):
        resized = resized.convert("RGBA" if has_transparency(resized) else "RGB")
    buffer = io.BytesIO()
    resized.save(buffer, image_format, **ENCODER_OPTIONS[image_format])
    return buffer.getvalue(), height
