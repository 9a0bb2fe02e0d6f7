"""Reuse the small recommender world of the integration tests and the page clients."""

from tests.integration.interests.conftest import World, world  # noqa: F401
from tests.web.pages.conftest import new_client  # noqa: F401
