"""analytics tables (filled in by the analytics work)."""
