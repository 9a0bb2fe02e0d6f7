"""Generated product-style illustrations and avatars for the demo (Pillow only, no downloads)."""

from __future__ import annotations

import io
import random
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

RGB = tuple[int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

# Noto Sans CJK from Debian's fonts-noto-cjk; index 2 of the collection is Simplified Chinese.
_CJK_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
)
_LATIN_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 0),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf", 0),
)


@lru_cache
def _font_file(cjk: bool) -> tuple[str, int] | None:
    for path, index in (_CJK_CANDIDATES if cjk else _CJK_CANDIDATES + _LATIN_CANDIDATES):
        if Path(path).is_file():
            return path, index
    return None


def has_cjk_font() -> bool:
    """Whether Chinese text can be drawn (else images fall back to English names)."""
    return _font_file(True) is not None


@lru_cache(maxsize=32)
def font(size: int, cjk: bool = True) -> Font:
    """A font of `size` px: CJK-capable when installed, else Pillow's built-in font."""
    found = _font_file(cjk)
    if found is not None:
        try:
            return ImageFont.truetype(found[0], size, index=found[1])
        except OSError:
            pass
    return ImageFont.load_default(size)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t),
            round(a[2] + (b[2] - a[2]) * t))


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB, angle: int) -> Image.Image:
    # Rotate a small oversized gradient, crop its middle (no empty corners), then scale up.
    g = Image.linear_gradient("L").resize((384, 384), Image.Resampling.BILINEAR)
    g = g.rotate(angle, resample=Image.Resampling.BILINEAR).crop((64, 64, 320, 320))
    g = g.resize(size, Image.Resampling.BILINEAR)
    return ImageOps.colorize(g, top, bottom).convert("RGBA")


def _text_fits(draw: ImageDraw.ImageDraw, text: str, max_w: int, start: int,
               cjk: bool) -> tuple[Font, str]:
    size = start
    while size > 14:
        f = font(size, cjk)
        if draw.textlength(text, font=f) <= max_w:
            return f, text
        size -= 4
    f = font(14, cjk)
    while text and draw.textlength(text + "…", font=f) > max_w:
        text = text[:-1]
    return f, text + "…"


def _product(draw: ImageDraw.ImageDraw, shape: str, cx: int, cy: int, s: int, body: RGB,
             accent: RGB) -> None:
    """Draw a simple product silhouette centred on (cx, cy) with scale s."""
    light = (*_mix(body, (255, 255, 255), 0.45), 140)
    dark = _mix(body, (0, 0, 0), 0.35)
    if shape == "bottle":
        draw.rounded_rectangle((cx - s * 0.28, cy - s * 0.45, cx + s * 0.28, cy + s * 0.6),
                               radius=int(s * 0.12), fill=body)
        draw.rectangle((cx - s * 0.1, cy - s * 0.62, cx + s * 0.1, cy - s * 0.45), fill=dark)
        draw.rounded_rectangle((cx - s * 0.14, cy - s * 0.78, cx + s * 0.14, cy - s * 0.6),
                               radius=int(s * 0.04), fill=accent)
        draw.rounded_rectangle((cx - s * 0.2, cy - s * 0.05, cx + s * 0.2, cy + s * 0.3),
                               radius=int(s * 0.03), fill=(255, 255, 255, 200))
        draw.rectangle((cx - s * 0.2, cy - s * 0.38, cx - s * 0.13, cy + s * 0.5), fill=light)
    elif shape == "tube":
        draw.rounded_rectangle((cx - s * 0.16, cy - s * 0.05, cx + s * 0.16, cy + s * 0.62),
                               radius=int(s * 0.04), fill=body)
        draw.rectangle((cx - s * 0.13, cy - s * 0.2, cx + s * 0.13, cy - s * 0.05), fill=dark)
        draw.polygon([(cx - s * 0.1, cy - s * 0.2), (cx + s * 0.1, cy - s * 0.2),
                      (cx + s * 0.1, cy - s * 0.5), (cx - s * 0.1, cy - s * 0.36)], fill=accent)
        draw.rectangle((cx - s * 0.11, cy + s * 0.02, cx - s * 0.05, cy + s * 0.55), fill=light)
    elif shape == "jar":
        draw.rounded_rectangle((cx - s * 0.42, cy - s * 0.2, cx + s * 0.42, cy + s * 0.5),
                               radius=int(s * 0.1), fill=body)
        draw.rounded_rectangle((cx - s * 0.46, cy - s * 0.4, cx + s * 0.46, cy - s * 0.18),
                               radius=int(s * 0.05), fill=accent)
        draw.ellipse((cx - s * 0.2, cy, cx + s * 0.2, cy + s * 0.35), fill=(255, 255, 255, 190))
        draw.rectangle((cx - s * 0.34, cy - s * 0.12, cx - s * 0.27, cy + s * 0.42), fill=light)
    elif shape == "round":
        draw.ellipse((cx - s * 0.55, cy - s * 0.55, cx + s * 0.55, cy + s * 0.55), fill=body)
        draw.ellipse((cx - s * 0.32, cy - s * 0.32, cx + s * 0.32, cy + s * 0.32), fill=accent)
        draw.ellipse((cx - s * 0.12, cy - s * 0.12, cx + s * 0.12, cy + s * 0.12), fill=dark)
        draw.arc((cx - s * 0.48, cy - s * 0.48, cx + s * 0.48, cy + s * 0.48), 200, 260,
                 fill=light, width=max(2, int(s * 0.05)))
    elif shape == "bag":
        draw.arc((cx - s * 0.25, cy - s * 0.75, cx + s * 0.25, cy - s * 0.1), 180, 360,
                 fill=dark, width=max(3, int(s * 0.06)))
        draw.polygon([(cx - s * 0.5, cy - s * 0.35), (cx + s * 0.5, cy - s * 0.35),
                      (cx + s * 0.6, cy + s * 0.6), (cx - s * 0.6, cy + s * 0.6)], fill=body)
        draw.rectangle((cx - s * 0.5, cy - s * 0.35, cx + s * 0.5, cy - s * 0.22), fill=accent)
        draw.polygon([(cx - s * 0.42, cy - s * 0.2), (cx - s * 0.32, cy - s * 0.2),
                      (cx - s * 0.38, cy + s * 0.5), (cx - s * 0.5, cy + s * 0.5)], fill=light)
    elif shape == "shoe":
        draw.polygon([(cx - s * 0.7, cy + s * 0.1), (cx - s * 0.1, cy - s * 0.3),
                      (cx + s * 0.15, cy - s * 0.32), (cx + s * 0.35, cy - s * 0.05),
                      (cx + s * 0.7, cy + s * 0.1), (cx + s * 0.72, cy + s * 0.3),
                      (cx - s * 0.72, cy + s * 0.3)], fill=body)
        draw.rounded_rectangle((cx - s * 0.75, cy + s * 0.28, cx + s * 0.75, cy + s * 0.42),
                               radius=int(s * 0.05), fill=accent)
        for i in range(3):
            x = cx - s * 0.05 + i * s * 0.1
            draw.line((x, cy - s * 0.22 + i * s * 0.04, x + s * 0.08, cy - s * 0.1 + i * s * 0.04),
                      fill=dark, width=max(2, int(s * 0.025)))
    elif shape == "cup":
        draw.arc((cx + s * 0.2, cy - s * 0.2, cx + s * 0.65, cy + s * 0.3), 270, 90,
                 fill=body, width=max(4, int(s * 0.09)))
        draw.polygon([(cx - s * 0.42, cy - s * 0.4), (cx + s * 0.42, cy - s * 0.4),
                      (cx + s * 0.34, cy + s * 0.55), (cx - s * 0.34, cy + s * 0.55)], fill=body)
        draw.ellipse((cx - s * 0.42, cy - s * 0.5, cx + s * 0.42, cy - s * 0.3), fill=dark)
        draw.rectangle((cx - s * 0.42, cy + s * 0.05, cx + s * 0.42, cy + s * 0.15), fill=accent)
    elif shape == "book":
        draw.rectangle((cx - s * 0.4, cy - s * 0.55, cx + s * 0.4, cy + s * 0.55), fill=body)
        draw.rectangle((cx - s * 0.4, cy - s * 0.55, cx - s * 0.3, cy + s * 0.55), fill=dark)
        draw.rectangle((cx - s * 0.2, cy - s * 0.35, cx + s * 0.3, cy - s * 0.2), fill=accent)
        draw.rectangle((cx - s * 0.2, cy - s * 0.1, cx + s * 0.25, cy - s * 0.05),
                       fill=(255, 255, 255, 180))
        draw.rectangle((cx - s * 0.2, cy + s * 0.02, cx + s * 0.15, cy + s * 0.07),
                       fill=(255, 255, 255, 180))
    elif shape == "device":
        draw.rounded_rectangle((cx - s * 0.62, cy - s * 0.38, cx + s * 0.62, cy + s * 0.38),
                               radius=int(s * 0.1), fill=body)
        draw.rounded_rectangle((cx - s * 0.52, cy - s * 0.28, cx + s * 0.52, cy + s * 0.28),
                               radius=int(s * 0.05), fill=dark)
        for r in range(3):
            for c in range(6):
                x0 = cx - s * 0.46 + c * s * 0.155
                y0 = cy - s * 0.22 + r * s * 0.155
                draw.rounded_rectangle((x0, y0, x0 + s * 0.12, y0 + s * 0.12),
                                       radius=int(s * 0.02), fill=accent if (r + c) % 4 else light)
    else:  # box
        d = s * 0.22
        front = [(cx - s * 0.5, cy - s * 0.25), (cx + s * 0.3, cy - s * 0.25),
                 (cx + s * 0.3, cy + s * 0.55), (cx - s * 0.5, cy + s * 0.55)]
        top = [(cx - s * 0.5, cy - s * 0.25), (cx - s * 0.5 + d, cy - s * 0.25 - d),
               (cx + s * 0.3 + d, cy - s * 0.25 - d), (cx + s * 0.3, cy - s * 0.25)]
        side = [(cx + s * 0.3, cy - s * 0.25), (cx + s * 0.3 + d, cy - s * 0.25 - d),
                (cx + s * 0.3 + d, cy + s * 0.55 - d), (cx + s * 0.3, cy + s * 0.55)]
        draw.polygon(front, fill=body)
        draw.polygon(top, fill=_mix(body, (255, 255, 255), 0.3))
        draw.polygon(side, fill=dark)
        draw.rectangle((cx - s * 0.5, cy + s * 0.05, cx + s * 0.3, cy + s * 0.18), fill=accent)


def product_image(rng: random.Random, *, name: str, price: int, shape: str,
                  palette: tuple[RGB, RGB], handle: str, size: tuple[int, int] = (720, 720),
                  cjk: bool = True) -> bytes:
    """A product-shot style JPEG: gradient backdrop, product silhouette, name and price."""
    w, h = size
    light, deep = palette
    top = _mix(light, (255, 255, 255), rng.uniform(0.1, 0.5))
    bottom = _mix(light, deep, rng.uniform(0.25, 0.6))
    img = _gradient(size, top, bottom, rng.choice((0, 15, 30, 330, 345)))
    over = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(over, "RGBA")
    for _ in range(rng.randint(3, 6)):  # soft background shapes
        r = rng.randint(w // 10, w // 3)
        x, y = rng.randint(-r, w), rng.randint(-r, h)
        tint = _mix(light, deep, rng.random())
        d.ellipse((x, y, x + 2 * r, y + 2 * r), fill=(*tint, rng.randint(30, 70)))
    # Shelf and shadow under the product.
    d.rectangle((0, int(h * 0.74), w, h), fill=(*_mix(deep, (255, 255, 255), 0.55), 90))
    cx, cy, s = w // 2 + rng.randint(-w // 14, w // 14), int(h * 0.5), int(min(w, h) * 0.37)
    d.ellipse((cx - s * 0.8, cy + s * 0.55, cx + s * 0.8, cy + s * 0.8), fill=(0, 0, 0, 45))
    body = _mix(deep, (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)), 0.25)
    accent = _mix(light, (255, 255, 255), 0.35) if rng.random() < 0.5 else \
        _mix(deep, (20, 20, 20), 0.5)
    _product(d, shape, cx, cy, s, body, accent)
    img = Image.alpha_composite(img, over)
    # Name label at the top, price badge, and a handle watermark.
    d = ImageDraw.Draw(img, "RGBA")
    f, text = _text_fits(d, name, w - 120, 52, cjk)
    tw = d.textlength(text, font=f)
    d.rounded_rectangle(((w - tw) / 2 - 28, 34, (w + tw) / 2 + 28, 118), radius=40,
                        fill=(255, 255, 255, 225))
    d.text((w / 2, 76), text, font=f, fill=(40, 40, 48), anchor="mm")
    pr = 64
    px, py = w - pr - 36, h - pr - 60
    d.ellipse((px - pr, py - pr, px + pr, py + pr), fill=(*_mix(deep, (200, 30, 40), 0.6), 255))
    d.text((px, py), f"¥{price}", font=font(38 if price < 1000 else 32, cjk),
           fill=(255, 255, 255), anchor="mm")
    d.text((34, h - 44), f"@{handle}", font=font(26, cjk), fill=(255, 255, 255, 230),
           anchor="lm", stroke_width=2, stroke_fill=(*deep, 160))
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=88)
    return buf.getvalue()


def avatar_image(rng: random.Random, *, initial: str, palette: tuple[RGB, RGB],
                 cjk: bool = True, size: int = 256) -> bytes:
    """A round-feeling avatar: gradient square with one initial."""
    light, deep = palette
    img = _gradient((size, size), _mix(light, deep, 0.2), deep, rng.choice((0, 45, 315)))
    d = ImageDraw.Draw(img, "RGBA")
    d.ellipse((size * 0.62, -size * 0.2, size * 1.2, size * 0.38),
              fill=(255, 255, 255, 50))
    d.text((size / 2, size / 2), initial, font=font(int(size * 0.48), cjk),
           fill=(255, 255, 255), anchor="mm")
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def header_image(rng: random.Random, *, palette: tuple[RGB, RGB],
                 size: tuple[int, int] = (1200, 400)) -> bytes:
    """A wide banner: gradient with a few translucent circles."""
    light, deep = palette
    img = _gradient(size, light, deep, rng.choice((0, 345, 15)))
    over = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(over, "RGBA")
    for _ in range(7):
        r = rng.randint(40, 180)
        x, y = rng.randint(0, size[0]), rng.randint(0, size[1])
        d.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, rng.randint(20, 60)))
    buf = io.BytesIO()
    Image.alpha_composite(img, over).convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()
