"""Command line: ``python -m shopwindow.partnersim --port 8101 --name "Lumen Mall" ...``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from shopwindow.partnersim.config import SimConfig


def parse_args(argv: list[str] | None = None) -> tuple[SimConfig, str, int]:
    ap = argparse.ArgumentParser(
        prog="shopwindow partner-sim",
        description="Run a simulated partner shop that sends signed order postbacks.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8101)
    ap.add_argument("--name", default="Lumen Mall", help="shop name (fictional)")
    ap.add_argument("--seed", type=int, default=1, help="catalogue seed (deterministic)")
    ap.add_argument("--products", type=int, default=150, help="number of products (0..800)")
    ap.add_argument("--currency", default="CNY")
    ap.add_argument("--postback-url", default=None,
                    help="where order postbacks are POSTed (none: events wait in the outbox)")
    ap.add_argument("--secret", default=None,
                    help="Standard Webhooks secret whsec_<base64> (generated if omitted)")
    ap.add_argument("--tracking-param", default="sw_click",
                    help="query parameter carrying the platform's tracking id")
    ap.add_argument("--admin-token", default=None, help="enables /_admin/* (Bearer token)")
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="SQLite + image cache directory (default: in memory)")
    ap.add_argument("--public-url", default=None,
                    help="absolute base URL for links (default: from the request Host)")
    ap.add_argument("--max-attempts", type=int, default=10)
    ap.add_argument("--retry-base", type=float, default=0.5, help="first back-off, seconds")
    ap.add_argument("--retry-cap", type=float, default=30.0, help="largest back-off, seconds")
    ap.add_argument("--timeout", type=float, default=5.0, help="postback HTTP timeout")
    ap.add_argument("--replay", type=int, default=0, metavar="N",
                    help="deliver every event N extra times (receiver idempotency tests)")
    ap.add_argument("--hold", action="store_true",
                    help="start with delivery on hold (release with POST /_admin/release)")
    ap.add_argument("--log-level", default="info")
    ns = ap.parse_args(argv)
    from shopwindow.partnersim.signing import generate_secret, validate_secret
    secret = ns.secret
    if secret is None:
        if ns.postback_url:
            ap.error("--secret is required with --postback-url")
        secret = generate_secret()
    try:
        validate_secret(secret)
    except ValueError as exc:
        ap.error(str(exc))
    if not 0 <= ns.products <= 800:
        ap.error("--products must be between 0 and 800")
    cfg = SimConfig(
        name=ns.name, seed=ns.seed, products=ns.products, currency=ns.currency.upper(),
        postback_url=ns.postback_url, secret=secret, tracking_param=ns.tracking_param,
        admin_token=ns.admin_token, data_dir=ns.data_dir, public_url=ns.public_url,
        max_attempts=max(1, ns.max_attempts), retry_base=ns.retry_base,
        retry_cap=ns.retry_cap, timeout=ns.timeout, replay=max(0, ns.replay), hold=ns.hold)
    return cfg, ns.host, ns.port


def main(argv: list[str] | None = None) -> None:
    cfg, host, port = parse_args(argv)
    import uvicorn

    from shopwindow.partnersim.app import build_app
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(f"{cfg.name}: http://{host}:{port}/  postbacks -> {cfg.postback_url or '(none)'}",
          file=sys.stderr)
    uvicorn.run(build_app(cfg), host=host, port=port, log_level="info")


if __name__ == "__main__":
    main()
