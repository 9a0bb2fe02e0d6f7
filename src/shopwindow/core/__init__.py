"""Shared kernel: no domain imports."""
