"""Generated product pictures (Pillow), cached in memory and, with a data dir, on disk."""

from __future__ import annotations

import colorsys
import io
import threading
from collections import OrderedDict
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from shopwindow.partnersim.catalogue import Product

SIZE = 480
_CACHE_MAX = 256


def _rgb(hue: int, sat: float, light: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb((hue % 360) / 360, light, sat)
    return int(r * 255), int(g * 255), int(b * 255)


def render(product: Product, variant: int) -> bytes:
    """PNG bytes: a coloured card with a category shape, the brand initial and the sku."""
    hue = product.hue + variant * 40
    img = Image.new("RGB", (SIZE, SIZE), _rgb(hue, 0.45, 0.88))
    draw = ImageDraw.Draw(img)
    fg = _rgb(hue, 0.55, 0.45)
    c = SIZE // 2
    shape = sum(map(ord, product.category)) % 3
    if shape == 0:
        draw.ellipse((c - 140, c - 160, c + 140, c + 120), fill=fg)
    elif shape == 1:
        draw.rounded_rectangle((c - 130, c - 150, c + 130, c + 110), radius=30, fill=fg)
    else:
        draw.polygon([(c, c - 170), (c + 150, c + 110), (c - 150, c + 110)], fill=fg)
    font = ImageFont.load_default(size=28)
    label = product.category.upper()
    draw.text((c, SIZE - 70), label, fill=_rgb(hue, 0.3, 0.25), font=font, anchor="mm")
    small = ImageFont.load_default(size=18)
    draw.text((c, SIZE - 35), f"{product.sku}  #{variant}", fill=_rgb(hue, 0.2, 0.35),
              font=small, anchor="mm")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


class ImageCache:
    def __init__(self, directory: Path | None) -> None:
        self._dir = directory
        self._mem: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._lock = threading.Lock()
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def get(self, product: Product, variant: int) -> bytes:
        key = (product.id, variant)
        with self._lock:
            hit = self._mem.get(key)
            if hit is not None:
                self._mem.move_to_end(key)
                return hit
        path = self._dir / f"{product.id}-{variant}.png" if self._dir else None
        if path is not None and path.exists():
            data = path.read_bytes()
        else:
            data = render(product, variant)
            if path is not None:
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(data)
                tmp.replace(path)
        with self._lock:
            self._mem[key] = data
            while len(self._mem) > _CACHE_MAX:
                self._mem.popitem(last=False)
        return data
