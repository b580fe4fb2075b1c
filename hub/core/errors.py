"""Domain refusals: what a jeweler is told when the books say no.

A refusal carries a stable `code` for machines, the `field` at fault when there is one, and a
*message template* with its values apart (`"piece {item_id} was sold on {sale_id}"`,
`item_id="P001"`, ...). The template is a gettext message id, so each boundary renders the
sentence in the reader's language and formats amounts, weights and numbers the way the store
writes them (`hub.words.Words.refusal`); `str()` is the English sentence, for logs and the CLI.
Templates are literals at the raise site, so `scripts/words` can extract them for translators.
"""

from __future__ import annotations

from typing import Any

from hub.words import ENGLISH


class Refused(ValueError):
    """A command the books refuse, with a stable code for clients and a clear reason.

    `code` is machine-readable (`item_sold`, `not_found`, `invalid`); `str()` is for people.
    """

    def __init__(self, code: str, message: str, *, field: str | None = None,
                 **params: Any) -> None:
        self.code = code
        self.message = message
        self.params = params
        self.field = field
        super().__init__(self.english())

    def english(self) -> str:
        return ENGLISH.render(self.message, self.params)


class NotFound(Refused):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__("not_found", message, **params)


class Invalid(Refused):
    """Input that cannot be taken as it is. `problems` lists every field at fault when a
    whole form was checked at once (see `hub.fields.Form`); a single refusal lists itself."""

    def __init__(self, message: str, field: str | None = None, **params: Any) -> None:
        super().__init__("invalid", message, field=field, **params)
        self.problems: list[Invalid] = [self]

    def english(self) -> str:
        text = ENGLISH.render(self.message, self.params)
        return f"{self.field}: {text}" if self.field else text

    @classmethod
    def many(cls, problems: list[Invalid]) -> Invalid:
        """One refusal for a whole form: the first problem speaks, all are listed."""
        first = problems[0]
        exc = cls(first.message, first.field, **first.params)
        exc.problems = list(problems)
        return exc
