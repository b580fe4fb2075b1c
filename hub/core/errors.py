"""Domain refusals: what a jeweler is told when the books say no."""

from __future__ import annotations


class Refused(ValueError):
    """A command the books refuse, with a stable code for clients and a clear reason.

    `code` is machine-readable (`item_sold`, `not_found`, `invalid`); `str()` is for people.
    """

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


class NotFound(Refused):
    def __init__(self, message: str) -> None:
        super().__init__("not_found", message)


class Invalid(Refused):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__("invalid", f"{field}: {message}" if field else message, field=field)
