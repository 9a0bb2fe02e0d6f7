"""The simulator's HTTP app: shop pages, product API, cart/checkout, orders, admin API."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from shopwindow.partnersim.config import SimConfig, format_decimal, minor_digits
from shopwindow.partnersim.delivery import Deliverer
from shopwindow.partnersim.images import ImageCache
from shopwindow.partnersim.shop import MAX_QTY, ProductView, Shop, ShopError

log = logging.getLogger("shopwindow.partnersim")

CART_COOKIE = "ps_cart"
_TRACKING_RE = re.compile(r"^[A-Za-z0-9._~:\-]{1,128}$")
_ITEM_RE = re.compile(r"^([A-Za-z0-9_\-]{1,40}):(\d{1,3})$")
_IMAGE_RE = re.compile(r"^([A-Za-z0-9_\-]{1,40}?)(?:-(\d))?$")
SCHEMA_IN_STOCK = "https://schema.org/InStock"
SCHEMA_OUT_OF_STOCK = "https://schema.org/OutOfStock"
_CURRENCY_SYMBOL = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def valid_tracking_id(value: str | None) -> str | None:
    if value and _TRACKING_RE.match(value):
        return value
    return None


def parse_items(raw: str) -> list[tuple[str, int]]:
    """"id:qty,id:qty" -> pairs; raises ValueError on anything malformed."""
    items: list[tuple[str, int]] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if ":" not in part:
            part += ":1"
        m = _ITEM_RE.match(part)
        if not m:
            raise ValueError(f"bad item {part!r}")
        qty = int(m.group(2))
        if not 1 <= qty <= MAX_QTY:
            raise ValueError(f"quantity must be 1..{MAX_QTY}")
        items.append((m.group(1), qty))
    return items


def _err(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


class Sim:
    """Handlers bound to one shop."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.shop = Shop(config)
        self.images = ImageCache(config.data_dir / "images" if config.data_dir else None)
        self.deliverer = Deliverer(self.shop)
        self.shop.on_event = self.deliverer.wake
        self.currency = config.currency.upper()

    # -- helpers ----------------------------------------------------------------------------
    def base(self, request: Request) -> str:
        return (self.config.public_url or str(request.base_url)).rstrip("/")

    def money(self, minor: int) -> str:
        sym = _CURRENCY_SYMBOL.get(self.currency)
        amount = format_decimal(minor, self.currency)
        return f"{sym}{amount}" if sym else f"{amount} {self.currency}"

    def image_urls(self, base: str, v: ProductView) -> list[str]:
        return [f"{base}/images/{v.p.id}.png"] + [
            f"{base}/images/{v.p.id}-{n}.png" for n in range(2, v.p.image_count + 1)]

    def product_json(self, base: str, v: ProductView) -> dict[str, Any]:
        p = v.p
        return {
            "id": p.id, "sku": p.sku, "url": f"{base}/p/{p.id}", "title": p.title,
            "brand": p.brand, "category": p.category, "gtin": p.gtin13,
            "description": p.description, "images": self.image_urls(base, v),
            "price_minor": v.price_minor, "price": format_decimal(v.price_minor, self.currency),
            "currency": self.currency, "stock": v.stock, "available": v.available,
            "availability": "InStock" if v.in_stock else "OutOfStock",
        }

    def json_ld(self, base: str, v: ProductView) -> dict[str, Any]:
        p = v.p
        return {
            "@context": "https://schema.org", "@type": "Product", "name": p.title,
            "image": self.image_urls(base, v), "description": p.description, "sku": p.sku,
            "gtin13": p.gtin13, "category": p.category, "url": f"{base}/p/{p.id}",
            "brand": {"@type": "Brand", "name": p.brand},
            "offers": {
                "@type": "Offer", "url": f"{base}/p/{p.id}",
                "price": format_decimal(v.price_minor, self.currency),
                "priceCurrency": self.currency,
                "availability": SCHEMA_IN_STOCK if v.in_stock else SCHEMA_OUT_OF_STOCK,
                "inventoryLevel": {"@type": "QuantitativeValue", "value": v.stock},
                "seller": {"@type": "Organization", "name": self.config.name},
            },
        }

    def page(self, title: str, body: Markup | str, head: Markup | str = "",
             status: int = 200) -> HTMLResponse:
        html = Markup(
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            "<title>{title} · {shop}</title>{head}<style>"
            "body{{font-family:system-ui,sans-serif;max-width:960px;margin:0 auto;padding:1em}}"
            "header{{display:flex;gap:1em;align-items:center;border-bottom:1px solid #ddd}}"
            ".grid{{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));"
            "gap:1em}} .card img{{width:100%}} .price{{color:#c30;font-weight:bold}}"
            "table{{border-collapse:collapse}} td,th{{padding:.3em .6em;"
            "border-bottom:1px solid #eee}}</style></head><body><header>"
            "<h2><a href=\"/\">{shop}</a></h2><a href=\"/cart\">Cart 购物车</a></header>"
            "<main>{body}</main><footer><small>{shop} is a simulated partner shop "
            "(shopwindow partner-sim). No real payments.</small></footer></body></html>"
        ).format(title=title, shop=self.config.name, head=head, body=body)
        return HTMLResponse(str(html), status_code=status)

    def remember_tracking(self, request: Request, response: Response) -> None:
        tid = valid_tracking_id(request.query_params.get(self.config.tracking_param))
        if tid:
            response.set_cookie(self.config.tracking_param, tid, max_age=7 * 86400,
                                httponly=True, samesite="lax")

    def tracking_from(self, request: Request) -> str | None:
        return valid_tracking_id(request.query_params.get(self.config.tracking_param)) or \
            valid_tracking_id(request.cookies.get(self.config.tracking_param))

    def cart(self, request: Request) -> list[tuple[str, int]]:
        try:
            return parse_items(request.cookies.get(CART_COOKIE, ""))
        except ValueError:
            return []

    # -- public pages -----------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        category = request.query_params.get("category") or None
        views = self.shop.views(category)
        page, per = self._page_args(request, 24)
        chunk = views[(page - 1) * per: page * per]
        cards = Markup("").join(
            Markup("<div class=\"card\"><a href=\"/p/{id}\"><img src=\"/images/{id}.png\" "
                   "alt=\"\" loading=\"lazy\"><div>{t}</div></a><div class=\"price\">{pr}</div>"
                   "</div>").format(id=v.p.id, t=v.p.title, pr=self.money(v.price_minor))
            for v in chunk)
        nav = Markup(" · ").join(
            Markup("<a href=\"/?category={c}\">{c}</a>").format(c=c)
            for c in self.shop.categories)
        pages = max(1, math.ceil(len(views) / per))
        more = Markup("")
        if page < pages:
            q = urlencode({k: v for k, v in (("category", category), ("page", page + 1)) if v})
            more = Markup("<p><a href=\"/?{q}\">Next page →</a></p>").format(q=q)
        body = Markup("<nav>{nav}</nav><div class=\"grid\">{cards}</div>{more}").format(
            nav=nav, cards=cards, more=more)
        return self.page(category or "Home", body)

    async def product_page(self, request: Request) -> Response:
        v = self.shop.view(request.path_params["product_id"])
        if v is None:
            return self.page("Not found", Markup("<p>No such product.</p>"), status=404)
        base = self.base(request)
        ld = json.dumps(self.json_ld(base, v), ensure_ascii=False)
        ld = ld.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        imgs = self.image_urls(base, v)
        head = Markup(
            "<script type=\"application/ld+json\">{ld}</script>"
            "<meta property=\"og:type\" content=\"product\">"
            "<meta property=\"og:title\" content=\"{t}\">"
            "<meta property=\"og:image\" content=\"{img}\">"
            "<meta property=\"og:url\" content=\"{url}\">"
            "<meta property=\"og:description\" content=\"{d}\">"
            "<meta property=\"og:site_name\" content=\"{shop}\">"
            "<meta property=\"product:price:amount\" content=\"{amt}\">"
            "<meta property=\"product:price:currency\" content=\"{cur}\">"
            "<meta property=\"product:availability\" content=\"{av}\">"
            "<link rel=\"canonical\" href=\"{url}\">"
        ).format(ld=Markup(ld),  # noqa: S704 - JSON with <, >, & escaped above
                 t=v.p.title, img=imgs[0], url=f"{base}/p/{v.p.id}",
                 d=v.p.description, shop=self.config.name,
                 amt=format_decimal(v.price_minor, self.currency), cur=self.currency,
                 av="in stock" if v.in_stock else "out of stock")
        gallery = Markup("").join(
            Markup("<img src=\"{u}\" alt=\"{t}\" width=\"240\">").format(u=u, t=v.p.title)
            for u in imgs)
        if v.in_stock:
            buy = Markup(
                "<form method=\"get\" action=\"/cart/add\"><input type=\"hidden\" "
                "name=\"items\" value=\"{id}:1\"><button>Add to cart 加入购物车</button></form>"
            ).format(id=v.p.id)
        else:
            buy = Markup("<p><strong>Out of stock 缺货</strong></p>")
        body = Markup(
            "<article><h1>{t}</h1><div>{gallery}</div><p class=\"price\">{price}</p>"
            "<p>Brand 品牌: {brand} · Category: {cat} · GTIN: {gtin} · SKU: {sku}</p>"
            "<p>Stock 库存: {stock}</p><p>{desc}</p>{buy}</article>"
        ).format(t=v.p.title, gallery=gallery, price=self.money(v.price_minor),
                 brand=v.p.brand, cat=v.p.category, gtin=v.p.gtin13, sku=v.p.sku,
                 stock=v.stock, desc=v.p.description, buy=buy)
        resp = self.page(v.p.title, body, head)
        self.remember_tracking(request, resp)
        return resp

    async def image(self, request: Request) -> Response:
        m = _IMAGE_RE.match(request.path_params["name"])
        p = self.shop.by_id.get(m.group(1)) if m else None
        variant = int(m.group(2) or 1) if m else 1
        if p is None or not 1 <= variant <= p.image_count:
            return Response(status_code=404)
        data = await asyncio.to_thread(self.images.get, p, variant)
        return Response(data, media_type="image/png",
                        headers={"cache-control": "public, max-age=86400"})

    # -- product API ------------------------------------------------------------------------
    def _page_args(self, request: Request, default_per: int) -> tuple[int, int]:
        try:
            page = max(1, int(request.query_params.get("page", "1")))
            per = min(100, max(1, int(request.query_params.get("per_page", default_per))))
        except ValueError:
            return 1, default_per
        return page, per

    async def api_products(self, request: Request) -> Response:
        category = request.query_params.get("category") or None
        views = self.shop.views(category)
        page, per = self._page_args(request, 50)
        base = self.base(request)
        total = len(views)
        pages = max(1, math.ceil(total / per))
        nxt = None
        if page < pages:
            q = {"page": page + 1, "per_page": per}
            if category:
                q["category"] = category  # type: ignore[assignment]
            nxt = f"{base}/api/products?{urlencode(q)}"
        return JSONResponse({
            "items": [self.product_json(base, v) for v in views[(page - 1) * per: page * per]],
            "page": page, "per_page": per, "total": total, "pages": pages, "next": nxt,
            "categories": self.shop.categories,
        })

    async def api_product(self, request: Request) -> Response:
        v = self.shop.view(request.path_params["product_id"])
        if v is None:
            return _err(404, "not_found", "no such product")
        return JSONResponse(self.product_json(self.base(request), v))

    async def api_by_gtin(self, request: Request) -> Response:
        p = self.shop.by_gtin.get(request.path_params["gtin"])
        v = self.shop.view(p.id) if p else None
        if v is None:
            return _err(404, "not_found", "no product with that GTIN")
        return JSONResponse(self.product_json(self.base(request), v))

    # -- cart / checkout --------------------------------------------------------------------
    async def cart_add(self, request: Request) -> Response:
        try:
            items = parse_items(request.query_params.get("items", ""))
        except ValueError as exc:
            return self.page("Cart", Markup("<p>{e}</p>").format(e=str(exc)), status=400)
        merged: dict[str, int] = dict(self.cart(request))
        for pid, qty in items:
            if pid in self.shop.by_id:
                merged[pid] = min(MAX_QTY, merged.get(pid, 0) + qty)
        resp = RedirectResponse("/cart", status_code=303)
        resp.set_cookie(CART_COOKIE, ",".join(f"{k}:{q}" for k, q in merged.items()),
                        max_age=7 * 86400, httponly=True, samesite="lax")
        self.remember_tracking(request, resp)
        return resp

    async def cart_page(self, request: Request) -> Response:
        items = self.cart(request)
        tid = self.tracking_from(request)
        rows = []
        total = 0
        for pid, qty in items:
            v = self.shop.view(pid)
            if v is None:
                continue
            total += v.price_minor * qty
            rows.append(Markup(
                "<tr><td><a href=\"/p/{id}\">{t}</a></td><td>{q}</td><td>{u}</td><td>{lt}</td>"
                "<td>{st}</td></tr>").format(
                    id=pid, t=v.p.title, q=qty, u=self.money(v.price_minor),
                    lt=self.money(v.price_minor * qty),
                    st="" if v.in_stock and v.stock >= qty else "unavailable"))
        if not rows:
            return self.page("Cart", Markup("<h1>Cart 购物车</h1><p>Your cart is empty.</p>"))
        body = Markup(
            "<h1>Cart 购物车</h1><table><tr><th>Item</th><th>Qty</th><th>Price</th>"
            "<th>Total</th><th></th></tr>{rows}</table><p class=\"price\">Total: {total}</p>"
            "<p><small>Referral 推广追踪: {tid}</small></p>"
            "<form method=\"post\" action=\"/checkout\">"
            "<input type=\"hidden\" name=\"tracking_id\" value=\"{tid_val}\">"
            "<label>Name 姓名 <input name=\"buyer_name\" value=\"Demo Buyer\" maxlength=\"80\">"
            "</label> <button name=\"pay\" value=\"1\">Pay now 立即支付</button></form>"
            "<form method=\"post\" action=\"/cart/clear\"><button>Empty cart</button></form>"
        ).format(rows=Markup("").join(rows), total=self.money(total), tid=tid or "none",
                 tid_val=tid or "")
        return self.page("Cart", body)

    async def cart_clear(self, request: Request) -> Response:
        resp = RedirectResponse("/cart", status_code=303)
        resp.delete_cookie(CART_COOKIE)
        return resp

    async def checkout(self, request: Request) -> Response:
        form = await request.form()
        items = self.cart(request)
        tid = valid_tracking_id(str(form.get("tracking_id") or "")) or self.tracking_from(request)
        try:
            order = self.shop.place_order(items, tid, str(form.get("buyer_name") or "")[:80],
                                          pay=True)
        except ShopError as exc:
            return self.page("Checkout", Markup("<h1>Checkout failed</h1><p>{m}</p>"
                                                "<p><a href=\"/cart\">Back to cart</a></p>")
                             .format(m=exc.message), status=exc.status)
        resp = RedirectResponse(f"/orders/{quote(order['order_id'])}", status_code=303)
        resp.delete_cookie(CART_COOKIE)
        return resp

    async def order_page(self, request: Request) -> Response:
        order = self.shop.get_order(request.path_params["order_id"])
        if order is None:
            return self.page("Order", Markup("<p>No such order.</p>"), status=404)
        oid = order["order_id"]
        refundable = order["status"] in ("paid", "partially_refunded")
        rows = []
        for ln in order["lines"]:
            left = ln["total_minor"] - ln["refunded_minor"]
            action = Markup("")
            if refundable and left > 0:
                action = Markup(
                    "<form method=\"post\" action=\"/orders/{oid}/refund\">"
                    "<input type=\"hidden\" name=\"line_id\" value=\"{lid}\">"
                    "<input name=\"amount\" value=\"{left}\" size=\"8\">"
                    "<button>Refund line 部分退款</button></form>").format(
                        oid=oid, lid=ln["line_id"], left=format_decimal(left, order["currency"]))
            rows.append(Markup(
                "<tr><td>{lid}</td><td>{t}</td><td>{q}</td><td>{u}</td><td>{lt}</td>"
                "<td>{rf}</td><td>{a}</td></tr>").format(
                    lid=ln["line_id"], t=ln["title"], q=ln["quantity"],
                    u=self.money(ln["unit_price_minor"]), lt=self.money(ln["total_minor"]),
                    rf=self.money(ln["refunded_minor"]), a=action))
        actions = Markup("")
        if order["status"] in ("placed", "paid") and not order["refunded_total_minor"]:
            actions += Markup("<form method=\"post\" action=\"/orders/{oid}/cancel\">"
                              "<button>Cancel order 取消订单</button></form>").format(oid=oid)
        if refundable:
            actions += Markup("<form method=\"post\" action=\"/orders/{oid}/refund\">"
                              "<button>Refund everything 全额退款</button></form>").format(oid=oid)
        body = Markup(
            "<h1>Order 订单 {oid}</h1><p>Status: <strong>{st}</strong> · Tracking id: {tid}</p>"
            "<table><tr><th>Line</th><th>Item</th><th>Qty</th><th>Unit</th><th>Total</th>"
            "<th>Refunded</th><th></th></tr>{rows}</table>"
            "<p class=\"price\">Total {total} · refunded {rf}</p>{actions}"
        ).format(oid=oid, st=order["status"], tid=order["tracking_id"] or "none",
                 rows=Markup("").join(rows), total=self.money(order["total_minor"]),
                 rf=self.money(order["refunded_total_minor"]), actions=actions)
        return self.page(f"Order {oid}", body)

    async def order_action(self, request: Request) -> Response:
        oid = request.path_params["order_id"]
        action = request.path_params["action"]
        form = await request.form()
        try:
            if action == "cancel":
                self.shop.cancel(oid)
            elif action == "refund":
                line_id = str(form.get("line_id") or "") or None
                amount_raw = str(form.get("amount") or "").strip()
                amount = self.parse_amount(amount_raw) if amount_raw else None
                self.shop.refund(oid, amount, line_id)
            else:
                return self.page("Order", Markup("<p>Unknown action.</p>"), status=404)
        except ShopError as exc:
            return self.page("Order", Markup("<p>{m}</p><p><a href=\"/orders/{oid}\">Back</a>"
                                             "</p>").format(m=exc.message, oid=oid),
                             status=exc.status)
        return RedirectResponse(f"/orders/{quote(oid)}", status_code=303)

    def parse_amount(self, raw: str) -> int:
        digits = minor_digits(self.currency)
        try:
            value = Decimal(raw) * (10**digits)
        except InvalidOperation:
            raise ShopError(422, "invalid_amount", "amount must be a decimal number") from None
        if value != value.to_integral_value():
            raise ShopError(422, "invalid_amount", "too many decimals")
        return int(value)

    # -- admin API --------------------------------------------------------------------------
    def admin_ok(self, request: Request) -> bool:
        token = self.config.admin_token
        if not token:
            return False
        given = request.headers.get("x-admin-token") or ""
        auth = request.headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        return hmac.compare_digest(given.encode(), token.encode())

    async def admin_body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise ShopError(400, "bad_json", "body must be JSON") from None
        if not isinstance(data, dict):
            raise ShopError(400, "bad_json", "body must be a JSON object")
        return data

    async def admin_product(self, request: Request, body: dict[str, Any]) -> Response:
        def opt_int(key: str) -> int | None:
            val = body.get(key)
            if val is None:
                return None
            if not isinstance(val, int) or isinstance(val, bool):
                raise ShopError(422, "invalid", f"{key} must be an integer")
            return val
        avail = body.get("available")
        if avail is not None and not isinstance(avail, bool):
            raise ShopError(422, "invalid", "available must be a boolean")
        v = self.shop.update_product(request.path_params["product_id"], opt_int("price_minor"),
                                     opt_int("stock"), avail)
        return JSONResponse(self.product_json(self.base(request), v))

    async def admin_checkout(self, request: Request, body: dict[str, Any]) -> Response:
        raw = body.get("items")
        items: list[tuple[str, int]] = []
        if isinstance(raw, str):
            try:
                items = parse_items(raw)
            except ValueError as exc:
                raise ShopError(422, "invalid_items", str(exc)) from None
        elif isinstance(raw, list):
            for it in raw:
                if not isinstance(it, dict):
                    raise ShopError(422, "invalid_items", "items must be objects")
                pid, qty = it.get("product_id"), it.get("quantity", 1)
                if not isinstance(pid, str) or not isinstance(qty, int):
                    raise ShopError(422, "invalid_items", "need product_id and quantity")
                items.append((pid, qty))
        else:
            raise ShopError(422, "invalid_items", "items is required")
        tid = body.get("tracking_id")
        if tid is not None and valid_tracking_id(tid) is None:
            raise ShopError(422, "invalid_tracking_id", "bad tracking id")
        order = self.shop.place_order(items, tid, str(body.get("buyer_name") or "API buyer"),
                                      pay=bool(body.get("pay", True)))
        return JSONResponse(order, status_code=201)

    async def admin_order(self, request: Request, body: dict[str, Any]) -> Response:
        oid = request.path_params["order_id"]
        order = self.shop.get_order(oid)
        if order is None:
            raise ShopError(404, "not_found", "no such order")
        return JSONResponse({**order, "events": self.shop.outbox(order_id=oid)})

    async def admin_orders(self, request: Request, body: dict[str, Any]) -> Response:
        return JSONResponse({"items": self.shop.list_orders()})

    async def admin_order_action(self, request: Request, body: dict[str, Any]) -> Response:
        oid = request.path_params["order_id"]
        action = request.path_params["action"]
        if action == "pay":
            order = self.shop.pay(oid)
        elif action == "cancel":
            order = self.shop.cancel(oid, str(body.get("reason") or "buyer_request"))
        elif action == "refund":
            amount = body.get("amount_minor")
            line_id = body.get("line_id")
            if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)):
                raise ShopError(422, "invalid_amount", "amount_minor must be an integer")
            if line_id is not None and not isinstance(line_id, str):
                raise ShopError(422, "unknown_line", "line_id must be a string")
            order = self.shop.refund(oid, amount, line_id,
                                     str(body.get("reason") or "buyer_return"))
        else:
            raise ShopError(404, "not_found", "unknown action")
        return JSONResponse(order)

    async def admin_deliveries(self, request: Request, body: dict[str, Any]) -> Response:
        q = request.query_params
        return JSONResponse({"items": self.shop.deliveries(q.get("event_id"),
                                                           q.get("order_id"))})

    async def admin_events(self, request: Request, body: dict[str, Any]) -> Response:
        q = request.query_params
        return JSONResponse({"items": self.shop.outbox(q.get("order_id"), q.get("status")),
                             "holding": self.shop.holding})

    async def admin_replay(self, request: Request, body: dict[str, Any]) -> Response:
        times = body.get("times", 1)
        if not isinstance(times, int) or not 1 <= times <= 20:
            raise ShopError(422, "invalid", "times must be 1..20")
        ids = [self.shop.replay(request.path_params["event_id"]) for _ in range(times)]
        return JSONResponse({"queued": len(ids), "outbox_ids": ids}, status_code=202)

    async def admin_hold(self, request: Request, body: dict[str, Any]) -> Response:
        self.shop.set_hold(bool(body.get("on", True)))
        return JSONResponse({"holding": self.shop.holding})

    async def admin_release(self, request: Request, body: dict[str, Any]) -> Response:
        ids = body.get("event_ids")
        if ids is not None and (not isinstance(ids, list)
                                or not all(isinstance(i, str) for i in ids)):
            raise ShopError(422, "invalid", "event_ids must be a list of strings")
        if body.get("hold_off", True) and ids is None:
            self.shop.set_hold(False)
        n = self.shop.release(ids, reverse=bool(body.get("reverse", False)))
        return JSONResponse({"released": n, "holding": self.shop.holding})

    async def admin_config(self, request: Request, body: dict[str, Any]) -> Response:
        url, secret = body.get("postback_url"), body.get("secret")
        if url is not None and (not isinstance(url, str)
                                or not url.startswith(("http://", "https://"))):
            raise ShopError(422, "invalid", "postback_url must be an http(s) URL")
        if secret is not None:
            from shopwindow.partnersim.signing import validate_secret
            try:
                validate_secret(str(secret))
            except ValueError as exc:
                raise ShopError(422, "invalid", str(exc)) from None
        self.shop.set_endpoint(url, secret)
        return JSONResponse({"postback_url": self.shop.postback_url})

    def admin(self, fn: Callable[[Request, dict[str, Any]], Awaitable[Response]]
              ) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            if not self.config.admin_token:
                return _err(403, "admin_disabled", "start the simulator with --admin-token")
            if not self.admin_ok(request):
                return _err(401, "unauthorized", "bad or missing admin token")
            try:
                body = await self.admin_body(request) if request.method == "POST" else {}
                return await fn(request, body)
            except ShopError as exc:
                return _err(exc.status, exc.code, exc.message)
        return handler

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"ok": True, "name": self.config.name,
                             "products": len(self.shop.products)})


def build_app(config: SimConfig) -> Starlette:
    """The simulator as an ASGI app. `app.state.sim` gives tests the shop and deliverer."""
    sim = Sim(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(sim.deliverer.run(), name="partnersim-delivery")
        try:
            yield
        finally:
            sim.deliverer.stop()
            try:
                await asyncio.wait_for(task, timeout=5)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
            sim.shop.close()

    a = sim.admin
    routes = [
        Route("/", sim.home),
        Route("/healthz", sim.healthz),
        Route("/p/{product_id}", sim.product_page),
        Route("/images/{name}.png", sim.image),
        Route("/api/products", sim.api_products),
        Route("/api/products/by-gtin/{gtin}", sim.api_by_gtin),
        Route("/api/products/{product_id}", sim.api_product),
        Route("/cart/add", sim.cart_add),
        Route("/cart", sim.cart_page),
        Route("/cart/clear", sim.cart_clear, methods=["POST"]),
        Route("/checkout", sim.checkout, methods=["POST"]),
        Route("/orders/{order_id}", sim.order_page),
        Route("/orders/{order_id}/{action}", sim.order_action, methods=["POST"]),
        Route("/_admin/products/{product_id}", a(sim.admin_product), methods=["POST"]),
        Route("/_admin/checkout", a(sim.admin_checkout), methods=["POST"]),
        Route("/_admin/orders", a(sim.admin_orders)),
        Route("/_admin/orders/{order_id}", a(sim.admin_order)),
        Route("/_admin/orders/{order_id}/{action}", a(sim.admin_order_action),
              methods=["POST"]),
        Route("/_admin/deliveries", a(sim.admin_deliveries)),
        Route("/_admin/events", a(sim.admin_events)),
        Route("/_admin/events/{event_id}/replay", a(sim.admin_replay), methods=["POST"]),
        Route("/_admin/hold", a(sim.admin_hold), methods=["POST"]),
        Route("/_admin/release", a(sim.admin_release), methods=["POST"]),
        Route("/_admin/config", a(sim.admin_config), methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sim = sim
    return app
