"""Loupe: the in-store hub for luxury jewelry stores."""

__version__ = "0.1.0"
