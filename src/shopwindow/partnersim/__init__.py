"""Partner-shop simulator: an external e-commerce site for the demo and the tests.

It is deliberately independent of shopwindow's domain code (it stands for a third-party
platform such as Tmall or Taobao): product pages with schema.org Product JSON-LD, a product
JSON API, cart and checkout that carry the platform's tracking id, and signed order
postbacks (Standard Webhooks) delivered from a durable outbox with retries.

Run: ``python -m shopwindow.partnersim --port 8101 --name "Lumen Mall" ...``; embed:
``build_app(SimConfig(...))``. The contract is docs/partner-simulator.md.
"""

from shopwindow.partnersim.app import build_app
from shopwindow.partnersim.config import SimConfig

__all__ = ["SimConfig", "build_app"]
