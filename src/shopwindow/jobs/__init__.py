"""Job runner (huey) and the event handlers of every domain."""
