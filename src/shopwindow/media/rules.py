"""Image processing rules (pure: bytes in, bytes out)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from shopwindow.core.errors import Invalid

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
                   "GIF": "image/gif"}
MAX_SIDE = 2048
THUMB_SIDE = 400


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    data: bytes
    thumb: bytes
    mime: str
    ext: str
    width: int
    height: int
    thumb_width: int
    thumb_height: int


def process_image(raw: bytes, *, max_bytes: int, max_pixels: int) -> ProcessedImage:
    """Check by content (not by name), re-encode without metadata, resize, thumbnail."""
    if len(raw) > max_bytes:
        raise Invalid(f"File is larger than {max_bytes // (1024 * 1024)} MiB", field="file",
                      rule=f"max_bytes:{max_bytes}")
    if not raw:
        raise Invalid("File is empty", field="file", rule="required")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
            w, h = probe.size
            if fmt not in ALLOWED_FORMATS:
                raise Invalid("Only JPEG, PNG, WebP and GIF images are accepted", field="file",
                              rule="image_type:jpeg,png,webp,gif")
            if w * h > max_pixels or w < 1 or h < 1:
                raise Invalid("Image dimensions are too large", field="file",
                              rule=f"max_pixels:{max_pixels}")
            probe.verify()
        with Image.open(io.BytesIO(raw)) as opened:
            opened.seek(0)  # first frame of animations
            img: Image.Image = ImageOps.exif_transpose(opened) or opened
            has_alpha = img.mode in ("RGBA", "LA", "P") and (
                img.mode != "P" or "transparency" in img.info
            )
            img = img.convert("RGBA" if has_alpha else "RGB")
            img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            thumb = img.copy()
            thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
            out_fmt, mime, ext = (("PNG", "image/png", "png") if has_alpha
                                  else ("JPEG", "image/jpeg", "jpg"))
            return ProcessedImage(
                data=_encode(img, out_fmt), thumb=_encode(thumb, out_fmt), mime=mime, ext=ext,
                width=img.width, height=img.height, thumb_width=thumb.width,
                thumb_height=thumb.height,
            )
    except Invalid:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Invalid("File is not a readable image", field="file", rule="image") from exc


def _encode(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    # Re-encoding from pixels drops EXIF/GPS and any trailing payload.
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=85, optimize=True, progressive=True)
    else:
        img.save(buf, "PNG", optimize=True)
    return buf.getvalue()
