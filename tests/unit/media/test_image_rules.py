from __future__ import annotations

import io

import pytest
from PIL import Image

from shopwindow.core.errors import Invalid
from shopwindow.media.rules import process_image
from tests.helpers import jpeg_with_exif, png_bytes

LIMITS = {"max_bytes": 2 * 1024 * 1024, "max_pixels": 40_000_000}


def test_exif_and_gps_are_stripped():
    raw = jpeg_with_exif()
    assert b"SecretCameraMaker" in raw
    out = process_image(raw, **LIMITS)
    assert b"SecretCameraMaker" not in out.data and b"SecretCameraMaker" not in out.thumb
    with Image.open(io.BytesIO(out.data)) as im:
        assert not im.getexif()


def test_resize_and_thumbnail():
    out = process_image(png_bytes(4000, 1000), **LIMITS)
    assert (out.width, out.height) == (2048, 512)
    assert max(out.thumb_width, out.thumb_height) == 400


def test_content_not_name_decides():
    with pytest.raises(Invalid) as e:
        process_image(b"%PDF-1.4 not an image at all", **LIMITS)
    assert e.value.field == "file" and e.value.rule == "image"
    with pytest.raises(Invalid) as e:
        process_image(b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", **LIMITS)
    assert e.value.field == "file"


def test_size_and_pixel_limits():
    with pytest.raises(Invalid) as e:
        process_image(png_bytes(), max_bytes=10, max_pixels=10**9)
    assert e.value.rule.startswith("max_bytes")
    with pytest.raises(Invalid) as e:
        process_image(png_bytes(100, 100), max_bytes=10**9, max_pixels=500)
    assert e.value.rule.startswith("max_pixels")


def test_truncated_image_is_refused():
    raw = png_bytes(200, 200)
    with pytest.raises(Invalid):
        process_image(raw[: len(raw) // 2], **LIMITS)


def test_trailing_payload_is_dropped():
    raw = png_bytes() + b"<?php system($_GET['x']); ?>"
    out = process_image(raw, **LIMITS)
    assert b"<?php" not in out.data
