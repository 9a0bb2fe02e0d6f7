"""Postback delivery: drains the outbox to the receiver with retries and back-off.

- 2xx: delivered.
- 408, 429, 5xx, timeouts, connection errors: retried after base * 2^(n-1) seconds (capped,
  +/- jitter; a Retry-After header in seconds is honoured up to the cap), up to
  max_attempts, then the event is marked failed.
- any other status (4xx, 3xx): rejected, not retried.

Events of one order are delivered strictly in sequence: an event waits until every earlier
pending event of the same order is delivered, rejected or failed. Different orders are
delivered concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import time

import httpx

from shopwindow.partnersim.config import SimConfig
from shopwindow.partnersim.shop import Shop
from shopwindow.partnersim.signing import sign_headers

log = logging.getLogger("shopwindow.partnersim.delivery")

USER_AGENT = "shopwindow-partnersim/0.1"


def backoff_delay(attempt: int, config: SimConfig, rng: random.Random | None = None) -> float:
    """Delay before retry number `attempt` (1 = after the first failure)."""
    base = min(config.retry_cap, config.retry_base * (2 ** max(0, attempt - 1)))
    jitter = (rng or random).uniform(-config.retry_jitter, config.retry_jitter)
    return max(0.0, min(config.retry_cap, base * (1 + jitter)))


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


class Deliverer:
    def __init__(self, shop: Shop, client: httpx.AsyncClient | None = None) -> None:
        self.shop = shop
        self.config = shop.config
        self._client = client
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._sem = asyncio.Semaphore(8)

    def wake(self) -> None:
        """Thread-safe: called by the shop after it writes an event."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        owns = self._client is None
        client = self._client or httpx.AsyncClient(
            timeout=self.config.timeout, headers={"user-agent": USER_AGENT},
            follow_redirects=False)
        try:
            while not self._stopping:
                self._wake.clear()
                n = await self.run_once(client)
                if n:
                    continue
                nxt = self.shop.next_due_at()
                wait = 1.0 if nxt is None else max(0.0, min(1.0, nxt - time.time()))
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
                except TimeoutError:
                    pass
        finally:
            if owns:
                await client.aclose()

    async def run_once(self, client: httpx.AsyncClient) -> int:
        url = self.shop.postback_url
        secret = self.shop.secret
        if not url or not secret:
            return 0
        rows = self.shop.due(time.time())
        if rows:
            await asyncio.gather(*(self._deliver(client, url, secret, r) for r in rows))
        return len(rows)

    async def _deliver(self, client: httpx.AsyncClient, url: str, secret: str,
                       row: sqlite3.Row) -> None:
        async with self._sem:
            body: str = row["body"]
            headers = sign_headers(secret, row["event_id"], body)
            headers["content-type"] = "application/json"
            headers["user-agent"] = f"{USER_AGENT} ({self.config.name})"
            started = time.monotonic()
            status: int | None = None
            error: str | None = None
            retry_after: float | None = None
            try:
                resp = await client.post(url, content=body.encode(), headers=headers)
                status = resp.status_code
                retry_after = _retry_after(resp)
                if not 200 <= status < 300:
                    error = f"HTTP {status}: {resp.text[:200]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            ms = int((time.monotonic() - started) * 1000)
            attempt = row["attempts"] + 1
            next_at: float | None = None
            if status is not None and 200 <= status < 300:
                outcome = "delivered"
            elif status is not None and status not in (408, 429) and status < 500:
                outcome = "rejected"
                log.warning("postback %s %s rejected: %s", row["type"], row["event_id"], error)
            elif attempt >= self.config.max_attempts:
                outcome = "failed"
                log.warning("postback %s %s failed after %d attempts: %s", row["type"],
                            row["event_id"], attempt, error)
            else:
                outcome = "retry"
                delay = backoff_delay(attempt, self.config)
                if retry_after is not None:
                    delay = max(delay, min(retry_after, self.config.retry_cap))
                next_at = time.time() + delay
                log.info("postback %s %s attempt %d failed (%s); retry in %.2fs", row["type"],
                         row["event_id"], attempt, error, delay)
            self.shop.record_attempt(row, url=url, status_code=status, error=error,
                                     outcome=outcome, duration_ms=ms, next_attempt_at=next_at)
