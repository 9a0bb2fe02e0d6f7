"""Tracking: buy clicks and hand-offs, partner postbacks, orders, attribution, commission."""
