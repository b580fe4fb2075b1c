"""Buying gold from clients, trade-ins and the hold period (issue #13)."""
