"""Reuse the partner-shop simulator of the partners integration tests."""

from tests.integration.partners.conftest import sim  # noqa: F401
