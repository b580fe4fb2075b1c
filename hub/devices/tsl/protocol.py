"""TSL ASCII 2.0 replies: header-prefixed lines (`CS:` command started, `EP:` EPC,
`RI:` RSSI in dBm, `ER:` error, `ME:` message...) closed by `OK:` or `ER:`.
A trigger press runs the configured command and sends the same kind of group unasked."""

from __future__ import annotations

from dataclasses import dataclass, field

# Lines kept per reply: two per tag, so a sweep of a safe of 25,000 pieces fits; a runaway
# reply is cut here (and says so) rather than growing forever.
MAX_GROUP = 50_000


@dataclass
class Reply:
    command: str
    lines: list[tuple[str, str]] = field(default_factory=list)
    ok: bool = False
    error: str | None = None
    cut: int = 0  # lines past MAX_GROUP that were dropped

    def tags(self) -> list[tuple[str, int | None]]:
        """(EPC, RSSI dBm) pairs in order; RI follows the EP it belongs to."""
        out: list[tuple[str, int | None]] = []
        for header, value in self.lines:
            if header == "EP":
                out.append((value, None))
            elif header == "RI" and out and out[-1][1] is None:
                try:
                    out[-1] = (out[-1][0], int(value))
                except ValueError:
                    pass
        return out


class ReplyAssembler:
    def __init__(self) -> None:
        self._current: Reply | None = None
        self.junk = 0

    def line(self, raw: bytes) -> Reply | None:
        """Feed one line; returns a Reply when its OK:/ER: closes it."""
        try:
            text = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            self.junk += 1
            return None
        header, sep, value = text.partition(":")
        if not sep or len(header) != 2 or not header.isalpha():
            self.junk += 1
            return None
        value = value.strip()
        if header == "CS":
            self._current = Reply(value)
            return None
        if self._current is None:
            self._current = Reply("")  # a reply whose CS: line we missed
        reply = self._current
        if header == "OK":
            reply.ok, self._current = True, None
            return reply
        if header == "ER":
            reply.error, self._current = value or "error", None
            return reply
        if len(reply.lines) < MAX_GROUP:
            reply.lines.append((header, value))
        else:
            reply.cut += 1
        return None
