"""Notifications: follow, like, reply, mention, repost."""
