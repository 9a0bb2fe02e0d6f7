"""Showcase: products, recommendations, publisher, showcase and middle pages, bookmarks, cart."""
