"""interests tables (filled in by the interests work)."""
