"""shopwindow: interest-driven social commerce platform."""

__version__ = "0.1.0"
