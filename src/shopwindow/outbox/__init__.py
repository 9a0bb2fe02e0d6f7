"""Transactional outbox: domain events written with the change, published after commit."""

from shopwindow.outbox.events import (
    DomainEvent,
    Inline,
    OutboxEvent,
    emit,
    emit_many,
    handlers_for,
    set_publisher,
    subscribe,
    subscribe_live,
)

__all__ = [
    "DomainEvent",
    "Inline",
    "OutboxEvent",
    "emit",
    "emit_many",
    "handlers_for",
    "set_publisher",
    "subscribe",
    "subscribe_live",
]
