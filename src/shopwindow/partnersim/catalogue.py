"""Deterministic product catalogue for one simulated partner shop.

Every shop draws its products from one shared "world" pool generated from a fixed seed, so
two shops started with different seeds still sell some of the same products (same GTIN,
title and brand) at different prices: that is what barcode scan / price comparison needs.
The shop's own seed decides which pool items it lists, its prices, stock and product ids.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

WORLD_SEED = 20150601
WORLD_SIZE = 800

# category -> [(zh name, en name, min yuan, max yuan)]
_BASES: dict[str, list[tuple[str, str, int, int]]] = {
    "fashion": [
        ("亚麻连衣裙", "Linen Summer Dress", 129, 399),
        ("纯棉T恤", "Cotton Crew T-shirt", 39, 129),
        ("羊毛围巾", "Merino Wool Scarf", 99, 299),
        ("帆布鞋", "Canvas Sneakers", 89, 299),
        ("牛仔夹克", "Denim Jacket", 199, 599),
        ("真丝衬衫", "Silk Blouse", 259, 899),
    ],
    "beauty": [
        ("玻尿酸精华液", "Hyaluronic Serum", 89, 399),
        ("防晒霜 SPF50+", "Sunscreen SPF50+", 59, 199),
        ("丝绒口红", "Velvet Lipstick", 79, 299),
        ("氨基酸洗面奶", "Amino Acid Cleanser", 39, 129),
        ("保湿面膜", "Hydrating Sheet Masks", 49, 159),
    ],
    "digital": [
        ("无线降噪耳机", "Wireless ANC Earbuds", 199, 1299),
        ("机械键盘", "Mechanical Keyboard", 199, 899),
        ("快充充电宝", "Fast-charge Power Bank", 79, 299),
        ("智能手表", "Smart Watch", 399, 2499),
        ("蓝牙音箱", "Bluetooth Speaker", 129, 899),
        ("电子阅读器", "E-ink Reader", 499, 1599),
    ],
    "home": [
        ("香薰蜡烛", "Scented Candle", 39, 199),
        ("记忆棉枕头", "Memory Foam Pillow", 99, 399),
        ("陶瓷餐具套装", "Ceramic Dinnerware Set", 129, 599),
        ("北欧落地灯", "Nordic Floor Lamp", 199, 799),
        ("纯棉四件套", "Cotton Bedding Set", 199, 699),
    ],
    "food": [
        ("明前龙井绿茶", "Longjing Green Tea", 89, 599),
        ("云南小粒咖啡豆", "Yunnan Coffee Beans", 49, 199),
        ("每日坚果", "Daily Mixed Nuts", 59, 159),
        ("手工牛轧糖", "Handmade Nougat", 29, 99),
        ("五常大米 5kg", "Wuchang Rice 5kg", 59, 149),
    ],
    "books": [
        ("城市漫步指南", "A Walker's Guide to the City", 39, 89),
        ("家常菜100道", "100 Home-style Recipes", 29, 69),
        ("零基础学Python", "Python from Zero", 59, 129),
        ("宋词选读", "Selected Song Ci Poems", 25, 59),
        ("极简生活", "Living with Less", 35, 79),
    ],
    "pets": [
        ("冻干猫粮", "Freeze-dried Cat Food", 69, 299),
        ("反光狗狗牵引绳", "Reflective Dog Leash", 29, 99),
        ("瓦楞纸猫抓板", "Cardboard Cat Scratcher", 19, 89),
        ("宠物自动饮水机", "Pet Water Fountain", 89, 299),
        ("宠物除毛梳", "Deshedding Brush", 29, 99),
    ],
    "sports": [
        ("防滑瑜伽垫", "Non-slip Yoga Mat", 69, 299),
        ("缓震跑步鞋", "Cushioned Running Shoes", 299, 999),
        ("速干运动T恤", "Quick-dry Training Tee", 49, 159),
        ("可调节哑铃", "Adjustable Dumbbells", 199, 899),
        ("登山背包 30L", "Hiking Backpack 30L", 159, 599),
    ],
}

_BRANDS: dict[str, list[str]] = {
    "fashion": ["素棉", "Maple & Moss", "北辰衣社", "Linnea", "青衫"],
    "beauty": ["花间集", "Dewlab", "Maison Lys", "玉容坊", "Purely"],
    "digital": ["声澜", "Voltra", "Nimbus", "极客岛", "Aurion"],
    "home": ["木与器", "Hearthly", "栖居", "Nordhem", "Calm & Co"],
    "food": ["山野茶舍", "Bean Atlas", "果壳日记", "稻香村坊", "Honeyfield"],
    "books": ["青灯出版社", "Lantern Press", "墨香书局", "Paperkite", "River Books"],
    "pets": ["毛孩子", "Pawsome", "喵星球", "Tailwise", "Barkly"],
    "sports": ["疾风", "Peakline", "Stride", "山径", "Kinetic"],
}

_COLOURS = [
    ("雾霾蓝", "Haze Blue"), ("奶油白", "Cream White"), ("墨黑", "Ink Black"),
    ("樱花粉", "Sakura Pink"), ("橄榄绿", "Olive Green"), ("燕麦色", "Oat"),
]
_SUFFIXES = ["Pro", "Max", "Lite", "2代", "礼盒装", "Plus", "Mini", "经典款"]

_DESC_ZH = [
    "精选材质，细节考究，日常使用更安心。", "七天无理由退换，顺丰包邮。",
    "匠心设计，简约不简单。", "品牌直营，正品保障。", "限时优惠，售完即止。",
]
_DESC_EN = [
    "Carefully chosen materials and honest craftsmanship.",
    "Free shipping and 7-day no-questions returns.",
    "Designed for everyday use; built to last.",
    "Sold directly by the brand, authenticity guaranteed.",
]

CATEGORIES: tuple[str, ...] = tuple(_BASES)


def gtin13_check_digit(first12: str) -> int:
    """GS1 check digit for the first 12 digits of a GTIN-13."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError("need exactly 12 digits")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def gtin13_valid(gtin: str) -> bool:
    return (len(gtin) == 13 and gtin.isdigit()
            and gtin13_check_digit(gtin[:12]) == int(gtin[12]))


@dataclass(frozen=True, slots=True)
class WorldItem:
    """A product as it exists in the world (shared between shops)."""

    index: int
    gtin13: str
    title: str
    brand: str
    category: str
    description: str
    base_price_minor: int
    colour_en: str


@dataclass(frozen=True, slots=True)
class Product:
    """A product as one shop lists it. price/stock/available are the *initial* values."""

    id: str
    sku: str
    gtin13: str
    title: str
    brand: str
    category: str
    description: str
    price_minor: int
    stock: int
    available: bool
    image_count: int
    hue: int = field(default=0)


def _round_price(minor: int, rng: random.Random) -> int:
    yuan = max(1, minor // 100)
    return yuan * 100 + rng.choice([0, 0, 90, 99, 50])


def _make_world() -> list[WorldItem]:
    rng = random.Random(WORLD_SEED)
    items: list[WorldItem] = []
    seen: set[str] = set()
    for i in range(WORLD_SIZE):
        category = CATEGORIES[i % len(CATEGORIES)]
        zh, en, lo, hi = rng.choice(_BASES[category])
        brand = rng.choice(_BRANDS[category])
        colour_zh, colour_en = rng.choice(_COLOURS)
        suffix = rng.choice(_SUFFIXES)
        style = rng.random()
        if style < 0.35:
            title = f"{brand} {zh} {colour_zh}"
        elif style < 0.65:
            title = f"{brand} {en} – {colour_en}"
        elif style < 0.85:
            title = f"{zh} {suffix}"
        else:
            title = f"{en} {suffix} {colour_zh}"
        while True:
            first12 = "69" + f"{rng.randrange(10**10):010d}"
            gtin = first12 + str(gtin13_check_digit(first12))
            if gtin not in seen:
                seen.add(gtin)
                break
        desc = (f"{rng.choice(_DESC_ZH)} {zh}（{colour_zh}）。 "
                f"{en} in {colour_en.lower()}. {rng.choice(_DESC_EN)}")
        price = _round_price(rng.randint(lo * 100, hi * 100), rng)
        items.append(WorldItem(i, gtin, title, brand, category, desc, price, colour_en))
    return items


_WORLD: list[WorldItem] | None = None


def world() -> list[WorldItem]:
    global _WORLD
    if _WORLD is None:
        _WORLD = _make_world()
    return _WORLD


def generate_catalogue(seed: int, count: int) -> list[Product]:
    """The shop's products, fully determined by (seed, count)."""
    if count < 0 or count > WORLD_SIZE:
        raise ValueError(f"products must be between 0 and {WORLD_SIZE}")
    rng = random.Random(f"partnersim-shop-{seed}")
    picks = sorted(rng.sample(range(WORLD_SIZE), count))
    id_prefix = 100 + int(hashlib.sha256(str(seed).encode()).hexdigest(), 16) % 900
    products: list[Product] = []
    for n, idx in enumerate(picks):
        item = world()[idx]
        price = _round_price(int(item.base_price_minor * rng.uniform(0.88, 1.12)), rng)
        stock = 0 if rng.random() < 0.07 else rng.randint(1, 500)
        pid = f"{id_prefix}{idx:05d}"
        products.append(Product(
            id=pid, sku=f"SKU-{pid}-{n:03d}", gtin13=item.gtin13, title=item.title,
            brand=item.brand, category=item.category, description=item.description,
            price_minor=price, stock=stock, available=True,
            image_count=rng.randint(1, 3), hue=(idx * 47) % 360,
        ))
    return products
