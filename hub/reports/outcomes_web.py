"""Clienteling outcomes (appointments and follow-ups that led to a purchase): to be built."""

from __future__ import annotations

from hub.web.kernel import Endpoints


def setup(table: Endpoints) -> None:
    del table
