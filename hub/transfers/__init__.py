"""Transfers between stores and the warehouse."""
