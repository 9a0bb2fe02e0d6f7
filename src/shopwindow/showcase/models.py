"""ORM tables of the showcase domain."""

from __future__ import annotations
