"""interests domain."""
