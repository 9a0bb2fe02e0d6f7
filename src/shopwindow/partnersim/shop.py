"""The shop's state: product stock/prices, orders and the postback outbox, in one SQLite db.

An order change and the postback event(s) it causes are written in the same transaction
(a transactional outbox), so an event exists if and only if the change happened, and a
crash or restart never loses an undelivered postback when a data dir is used.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shopwindow.partnersim.catalogue import Product, generate_catalogue
from shopwindow.partnersim.config import SimConfig

MAX_QTY = 99
MAX_LINES = 50

_SCHEMA = """
CREATE TABLE IF NOT EXISTS product_state (
  product_id TEXT PRIMARY KEY, price_minor INTEGER NOT NULL, stock INTEGER NOT NULL,
  available INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
  order_id TEXT PRIMARY KEY, data TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, order_id TEXT NOT NULL,
  type TEXT NOT NULL, body TEXT NOT NULL, position INTEGER NOT NULL, status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL, last_error TEXT,
  created_at REAL NOT NULL, delivered_at REAL, replay INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, order_id, position);
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT, outbox_id INTEGER NOT NULL, event_id TEXT NOT NULL,
  order_id TEXT NOT NULL, type TEXT NOT NULL, attempt INTEGER NOT NULL, at REAL NOT NULL,
  url TEXT, status_code INTEGER, error TEXT, outcome TEXT NOT NULL, duration_ms INTEGER,
  replay INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ShopError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


@dataclass(frozen=True, slots=True)
class ProductView:
    """A product with its current price, stock and availability."""

    p: Product
    price_minor: int
    stock: int
    available: bool

    @property
    def in_stock(self) -> bool:
        return self.available and self.stock > 0


class Shop:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.products = generate_catalogue(config.seed, config.products)
        self.by_id = {p.id: p for p in self.products}
        self.by_gtin = {p.gtin13: p for p in self.products}
        self.categories = sorted({p.category for p in self.products})
        path = ":memory:"
        if config.data_dir is not None:
            config.data_dir.mkdir(parents=True, exist_ok=True)
            path = str(config.data_dir / f"{config.slug}.sqlite3")
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self.on_event: Callable[[], None] | None = None  # the deliverer's wake-up
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._db.executemany(
                "INSERT OR IGNORE INTO product_state VALUES (?,?,?,?)",
                [(p.id, p.price_minor, p.stock, int(p.available)) for p in self.products])
            if config.hold:
                self._set("hold", "1")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- settings ---------------------------------------------------------------------------
    def _get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set(self, key: str, value: str | None) -> None:
        with self._lock:
            if value is None:
                self._db.execute("DELETE FROM settings WHERE key=?", (key,))
            else:
                self._db.execute("INSERT OR REPLACE INTO settings VALUES (?,?)", (key, value))

    @property
    def postback_url(self) -> str | None:
        return self._get("postback_url") or self.config.postback_url

    @property
    def secret(self) -> str | None:
        return self._get("secret") or self.config.secret

    def set_endpoint(self, url: str | None, secret: str | None) -> None:
        if url is not None:
            self._set("postback_url", url)
        if secret is not None:
            self._set("secret", secret)
        self._wake()

    @property
    def holding(self) -> bool:
        return self._get("hold") == "1"

    def set_hold(self, on: bool) -> None:
        self._set("hold", "1" if on else None)

    # -- products ---------------------------------------------------------------------------
    def view(self, product_id: str) -> ProductView | None:
        p = self.by_id.get(product_id)
        if p is None:
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM product_state WHERE product_id=?",
                                   (product_id,)).fetchone()
        return ProductView(p, row["price_minor"], row["stock"], bool(row["available"]))

    def views(self, category: str | None = None) -> list[ProductView]:
        with self._lock:
            rows = {r["product_id"]: r for r in self._db.execute("SELECT * FROM product_state")}
        return [ProductView(p, rows[p.id]["price_minor"], rows[p.id]["stock"],
                            bool(rows[p.id]["available"]))
                for p in self.products if category is None or p.category == category]

    def update_product(self, product_id: str, price_minor: int | None = None,
                       stock: int | None = None, available: bool | None = None) -> ProductView:
        if product_id not in self.by_id:
            raise ShopError(404, "not_found", "no such product")
        if price_minor is not None and price_minor <= 0:
            raise ShopError(422, "invalid", "price_minor must be positive")
        if stock is not None and stock < 0:
            raise ShopError(422, "invalid", "stock must be >= 0")
        with self._tx() as db:
            if price_minor is not None:
                db.execute("UPDATE product_state SET price_minor=? WHERE product_id=?",
                           (price_minor, product_id))
            if stock is not None:
                db.execute("UPDATE product_state SET stock=? WHERE product_id=?",
                           (stock, product_id))
            if available is not None:
                db.execute("UPDATE product_state SET available=? WHERE product_id=?",
                           (int(available), product_id))
        v = self.view(product_id)
        assert v is not None
        return v

    # -- orders -----------------------------------------------------------------------------
    def get_order(self, order_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM orders WHERE order_id=?",
                                   (order_id,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def list_orders(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM orders ORDER BY created_at DESC LIMIT ?", (limit,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def _load(self, db: sqlite3.Connection, order_id: str) -> dict[str, Any]:
        row = db.execute("SELECT data FROM orders WHERE order_id=?", (order_id,)).fetchone()
        if row is None:
            raise ShopError(404, "not_found", "no such order")
        return dict(json.loads(row[0]))

    def _save(self, db: sqlite3.Connection, order: dict[str, Any], new: bool = False) -> None:
        data = json.dumps(order, ensure_ascii=False)
        if new:
            db.execute("INSERT INTO orders VALUES (?,?,?)", (order["order_id"], data, time.time()))
        else:
            db.execute("UPDATE orders SET data=? WHERE order_id=?", (data, order["order_id"]))

    def place_order(self, items: list[tuple[str, int]], tracking_id: str | None,
                    buyer_name: str = "", pay: bool = True) -> dict[str, Any]:
        """Create an order from (product id, quantity) pairs; with pay=True also pay it."""
        merged: dict[str, int] = {}
        for pid, qty in items:
            if qty < 1 or qty > MAX_QTY:
                raise ShopError(422, "invalid_quantity", f"quantity must be 1..{MAX_QTY}")
            merged[pid] = merged.get(pid, 0) + qty
        if not merged:
            raise ShopError(422, "empty_cart", "the cart is empty")
        if len(merged) > MAX_LINES:
            raise ShopError(422, "too_many_lines", f"at most {MAX_LINES} lines")
        now = time.time()
        with self._tx() as db:
            lines = []
            for n, (pid, qty) in enumerate(merged.items(), start=1):
                p = self.by_id.get(pid)
                if p is None:
                    raise ShopError(422, "unknown_product", f"no product {pid}")
                st = db.execute("SELECT * FROM product_state WHERE product_id=?",
                                (pid,)).fetchone()
                if not st["available"]:
                    raise ShopError(409, "unavailable", f"{pid} is not available")
                if st["stock"] < qty:
                    raise ShopError(409, "out_of_stock", f"only {st['stock']} of {pid} left")
                db.execute("UPDATE product_state SET stock=stock-? WHERE product_id=?",
                           (qty, pid))
                lines.append({
                    "line_id": f"L{n}", "product_id": pid, "sku": p.sku, "title": p.title,
                    "gtin": p.gtin13, "brand": p.brand, "category": p.category,
                    "quantity": qty, "unit_price_minor": st["price_minor"],
                    "total_minor": st["price_minor"] * qty, "refunded_minor": 0,
                })
            order: dict[str, Any] = {
                "order_id": f"{self.config.slug.split('-')[0][:8].upper()}-"
                            f"{datetime.fromtimestamp(now, UTC):%Y%m%d}-"
                            f"{secrets.token_hex(4).upper()}",
                "status": "placed", "currency": self.config.currency.upper(),
                "tracking_id": tracking_id, "buyer_name": buyer_name[:80], "lines": lines,
                "total_minor": sum(ln["total_minor"] for ln in lines),
                "refunded_total_minor": 0, "placed_at": iso(now), "paid_at": None,
                "cancelled_at": None, "refunds": [], "event_seq": 0,
            }
            self._save(db, order, new=True)
            self._emit(db, order, "order.placed", now)
            if pay:
                self._pay(db, order, now)
        self._wake()
        return order

    def _pay(self, db: sqlite3.Connection, order: dict[str, Any], now: float) -> None:
        if order["status"] != "placed":
            raise ShopError(409, "bad_state", f"cannot pay an order that is {order['status']}")
        order["status"] = "paid"
        order["paid_at"] = iso(now)
        self._save(db, order)
        self._emit(db, order, "order.paid", now)

    def pay(self, order_id: str) -> dict[str, Any]:
        with self._tx() as db:
            order = self._load(db, order_id)
            self._pay(db, order, time.time())
        self._wake()
        return order

    def cancel(self, order_id: str, reason: str = "buyer_request") -> dict[str, Any]:
        now = time.time()
        with self._tx() as db:
            order = self._load(db, order_id)
            if order["status"] not in ("placed", "paid") or order["refunded_total_minor"]:
                raise ShopError(409, "bad_state",
                                f"cannot cancel an order that is {order['status']}")
            order["status"] = "cancelled"
            order["cancelled_at"] = iso(now)
            for ln in order["lines"]:
                db.execute("UPDATE product_state SET stock=stock+? WHERE product_id=?",
                           (ln["quantity"], ln["product_id"]))
            self._save(db, order)
            self._emit(db, order, "order.cancelled", now, {"reason": reason[:200]})
        self._wake()
        return order

    def refund(self, order_id: str, amount_minor: int | None = None,
               line_id: str | None = None, reason: str = "buyer_return") -> dict[str, Any]:
        """Refund a line (all of what is left, or `amount_minor`) or the order (idem).

        An order-level amount is spread over the lines in order. Returns the order.
        """
        now = time.time()
        with self._tx() as db:
            order = self._load(db, order_id)
            if order["status"] not in ("paid", "partially_refunded"):
                raise ShopError(409, "bad_state",
                                f"cannot refund an order that is {order['status']}")
            lines = order["lines"]
            if line_id is not None:
                lines = [ln for ln in lines if ln["line_id"] == line_id]
                if not lines:
                    raise ShopError(422, "unknown_line", f"no line {line_id}")
            left = sum(ln["total_minor"] - ln["refunded_minor"] for ln in lines)
            amount = left if amount_minor is None else amount_minor
            if amount <= 0 or amount > left:
                raise ShopError(422, "invalid_amount",
                                f"refund amount must be 1..{left} (refundable)")
            parts = []
            todo = amount
            for ln in lines:
                take = min(todo, ln["total_minor"] - ln["refunded_minor"])
                if take > 0:
                    ln["refunded_minor"] += take
                    parts.append({"line_id": ln["line_id"], "amount_minor": take,
                                  "refunded_minor": ln["refunded_minor"]})
                    todo -= take
            order["refunded_total_minor"] += amount
            full = order["refunded_total_minor"] >= order["total_minor"]
            order["status"] = "refunded" if full else "partially_refunded"
            refund = {"refund_id": f"R{len(order['refunds']) + 1}", "amount_minor": amount,
                      "lines": parts, "reason": reason[:200], "refunded_at": iso(now)}
            order["refunds"].append(refund)
            self._save(db, order)
            self._emit(db, order, "order.refunded", now, {"refund": refund})
        self._wake()
        return order

    # -- outbox -----------------------------------------------------------------------------
    def payload(self, order: dict[str, Any], type_: str, now: float,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
        data = {k: v for k, v in order.items()
                if k not in ("buyer_name", "refunds", "event_seq")}
        data["lines"] = [dict(ln) for ln in order["lines"]]
        data["fully_refunded"] = order["refunded_total_minor"] >= order["total_minor"]
        if extra:
            data.update(extra)
        return {
            "type": type_,
            "event_id": "evt_" + secrets.token_hex(12),
            "occurred_at": iso(now),
            "sequence": order["event_seq"],
            "partner": {"name": self.config.name, "slug": self.config.slug},
            "data": data,
        }

    def _emit(self, db: sqlite3.Connection, order: dict[str, Any], type_: str, now: float,
              extra: dict[str, Any] | None = None) -> None:
        order["event_seq"] += 1
        self._save(db, order)
        body_obj = self.payload(order, type_, now, extra)
        body = json.dumps(body_obj, ensure_ascii=False, separators=(",", ":"))
        status = "held" if self._get("hold") == "1" else "pending"
        for n in range(1 + max(0, self.config.replay)):
            pos = db.execute("SELECT COALESCE(MAX(position),0)+1 FROM outbox").fetchone()[0]
            db.execute(
                "INSERT INTO outbox (event_id, order_id, type, body, position, status,"
                " next_attempt_at, created_at, replay) VALUES (?,?,?,?,?,?,?,?,?)",
                (body_obj["event_id"], order["order_id"], type_, body, pos, status, now, now,
                 int(n > 0)))

    def _wake(self) -> None:
        if self.on_event is not None:
            self.on_event()

    def due(self, now: float, limit: int = 32) -> list[sqlite3.Row]:
        """Pending rows that are due and first in line for their order."""
        with self._lock:
            return self._db.execute(
                "SELECT * FROM outbox o WHERE o.status='pending' AND o.next_attempt_at<=?"
                " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.order_id=o.order_id"
                " AND p.status='pending' AND p.position<o.position)"
                " ORDER BY o.position LIMIT ?", (now, limit)).fetchall()

    def next_due_at(self) -> float | None:
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(next_attempt_at) FROM outbox WHERE status='pending'").fetchone()
        return None if row[0] is None else float(row[0])

    def record_attempt(self, row: sqlite3.Row, *, url: str, status_code: int | None,
                       error: str | None, outcome: str, duration_ms: int,
                       next_attempt_at: float | None) -> None:
        """outcome: delivered | retry | rejected | failed."""
        now = time.time()
        attempt = row["attempts"] + 1
        new_status = {"delivered": "delivered", "retry": "pending", "rejected": "rejected",
                      "failed": "failed"}[outcome]
        with self._tx() as db:
            db.execute(
                "INSERT INTO deliveries (outbox_id, event_id, order_id, type, attempt, at, url,"
                " status_code, error, outcome, duration_ms, replay)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (row["id"], row["event_id"], row["order_id"], row["type"], attempt, now, url,
                 status_code, error, outcome, duration_ms, row["replay"]))
            db.execute(
                "UPDATE outbox SET status=?, attempts=?, last_error=?, next_attempt_at=?,"
                " delivered_at=? WHERE id=?",
                (new_status, attempt, error, next_attempt_at or now,
                 now if outcome == "delivered" else None, row["id"]))

    def outbox(self, order_id: str | None = None, status: str | None = None,
               limit: int = 500) -> list[dict[str, Any]]:
        q = "SELECT * FROM outbox WHERE 1=1"
        args: list[Any] = []
        if order_id:
            q += " AND order_id=?"
            args.append(order_id)
        if status:
            q += " AND status=?"
            args.append(status)
        q += " ORDER BY id LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self._db.execute(q, args).fetchall()
        return [{
            "outbox_id": r["id"], "event_id": r["event_id"], "order_id": r["order_id"],
            "type": r["type"], "status": r["status"], "attempts": r["attempts"],
            "position": r["position"], "replay": bool(r["replay"]),
            "last_error": r["last_error"], "created_at": iso(r["created_at"]),
            "next_attempt_at": iso(r["next_attempt_at"]),
            "delivered_at": iso(r["delivered_at"]) if r["delivered_at"] else None,
            "payload": json.loads(r["body"]),
        } for r in rows]

    def deliveries(self, event_id: str | None = None, order_id: str | None = None,
                   limit: int = 500) -> list[dict[str, Any]]:
        q = "SELECT * FROM deliveries WHERE 1=1"
        args: list[Any] = []
        if event_id:
            q += " AND event_id=?"
            args.append(event_id)
        if order_id:
            q += " AND order_id=?"
            args.append(order_id)
        q += " ORDER BY id LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self._db.execute(q, args).fetchall()
        return [{
            "id": r["id"], "outbox_id": r["outbox_id"], "event_id": r["event_id"],
            "order_id": r["order_id"], "type": r["type"], "attempt": r["attempt"],
            "at": iso(r["at"]), "url": r["url"], "status_code": r["status_code"],
            "error": r["error"], "outcome": r["outcome"], "duration_ms": r["duration_ms"],
            "replay": bool(r["replay"]),
        } for r in rows]

    def release(self, event_ids: list[str] | None = None, reverse: bool = False) -> int:
        """Release held events: the given ones in the given order, else all (optionally
        newest first). Released rows go to the back of the queue in release order, so this
        is how a test makes the receiver see e.g. `order.paid` before `order.placed`."""
        now = time.time()
        with self._tx() as db:
            held = db.execute(
                "SELECT id, event_id FROM outbox WHERE status='held' ORDER BY position"
            ).fetchall()
            if event_ids is not None:
                rank = {e: i for i, e in enumerate(event_ids)}
                chosen = sorted((r for r in held if r["event_id"] in rank),
                                key=lambda r: (rank[r["event_id"]], r["id"]))
            else:
                chosen = list(reversed(held)) if reverse else list(held)
            pos = db.execute("SELECT COALESCE(MAX(position),0) FROM outbox").fetchone()[0]
            for r in chosen:
                pos += 1
                db.execute("UPDATE outbox SET status='pending', position=?, next_attempt_at=?"
                           " WHERE id=?", (pos, now, r["id"]))
        self._wake()
        return len(chosen)

    def replay(self, event_id: str) -> int:
        """Queue one more delivery of an existing event (same webhook-id, same body)."""
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT * FROM outbox WHERE event_id=? ORDER BY id LIMIT 1",
                             (event_id,)).fetchone()
            if row is None:
                raise ShopError(404, "not_found", "no such event")
            pos = db.execute("SELECT COALESCE(MAX(position),0)+1 FROM outbox").fetchone()[0]
            cur = db.execute(
                "INSERT INTO outbox (event_id, order_id, type, body, position, status,"
                " next_attempt_at, created_at, replay) VALUES (?,?,?,?,?,'pending',?,?,1)",
                (row["event_id"], row["order_id"], row["type"], row["body"], pos, now, now))
            new_id = int(cur.lastrowid or 0)
        self._wake()
        return new_id
