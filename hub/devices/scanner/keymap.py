"""HID keyboard-wedge decoding: Linux input key codes to text, per keyboard layout.

A wedge scanner types the code as key presses. The keys it presses depend on the layout it
was set up for; decoding with the wrong one turns `@` into `"` and digits into `&é"`. So the
layout is configured per scanner, and must match the scanner's own setting.
"""

from __future__ import annotations

# Linux input-event-codes.h: key codes of the keys a scanner uses.
_ROW_DIGITS = {2: "1", 3: "2", 4: "3", 5: "4", 6: "5", 7: "6", 8: "7", 9: "8", 10: "9", 11: "0"}
KEY_ENTER, KEY_KPENTER, KEY_TAB = 28, 96, 15
SHIFTS = {42, 54}  # left, right shift
ALTGR = 100
_LETTER_CODES = {16: "q", 17: "w", 18: "e", 19: "r", 20: "t", 21: "y", 22: "u", 23: "i",
                 24: "o", 25: "p", 30: "a", 31: "s", 32: "d", 33: "f", 34: "g", 35: "h",
                 36: "j", 37: "k", 38: "l", 44: "z", 45: "x", 46: "c", 47: "v", 48: "b",
                 49: "n", 50: "m"}
_KEYPAD = {71: "7", 72: "8", 73: "9", 75: "4", 76: "5", 77: "6", 79: "1", 80: "2", 81: "3",
           82: "0", 83: ".", 55: "*", 74: "-", 78: "+", 98: "/"}
_US_PUNCT = {12: ("-", "_"), 13: ("=", "+"), 26: ("[", "{"), 27: ("]", "}"), 39: (";", ":"),
             40: ("'", '"'), 41: ("`", "~"), 43: ("\\", "|"), 51: (",", "<"), 52: (".", ">"),
             53: ("/", "?"), 57: (" ", " ")}
_US_SHIFT_DIGITS = dict(zip("1234567890", "!@#$%^&*()", strict=True))


def _us() -> dict[int, tuple[str, str, str]]:
    out = {code: (ch, ch.upper(), "") for code, ch in _LETTER_CODES.items()}
    out.update({code: (d, _US_SHIFT_DIGITS[d], "") for code, d in _ROW_DIGITS.items()})
    out.update({code: (a, b, "") for code, (a, b) in _US_PUNCT.items()})
    return out


def _fr() -> dict[int, tuple[str, str, str]]:
    """AZERTY (France): digits need Shift; A/Q, Z/W, M swap places."""
    out = _us()
    swap = {16: "a", 30: "q", 17: "z", 44: "w", 39: "m"}
    for code, ch in swap.items():
        out[code] = (ch, ch.upper(), "")
    row = "&é\"'(-è_çà"
    altgr = {3: "~", 4: "#", 5: "{", 6: "[", 7: "|", 8: "`", 9: "\\", 10: "^", 11: "@"}
    for (code, digit), plain in zip(_ROW_DIGITS.items(), row, strict=True):
        out[code] = (plain, digit, altgr.get(code, ""))
    out.update({12: (")", "°", "]"), 13: ("=", "+", "}"), 50: (",", "?", ""),
                51: (";", ".", ""), 52: (":", "/", ""), 53: ("!", "§", ""),
                40: ("ù", "%", ""), 43: ("*", "µ", ""), 57: (" ", " ", "")})
    return out


def _de() -> dict[int, tuple[str, str, str]]:
    """QWERTZ (Germany): Y/Z swap; Shift+digits and AltGr give the punctuation."""
    out = _us()
    out[21], out[44] = ("z", "Z", ""), ("y", "Y", "")
    shifted = "!\"§$%&/()="
    altgr = {8: "{", 9: "[", 10: "]", 11: "}", 16: "@"}
    for (code, digit), sh in zip(_ROW_DIGITS.items(), shifted, strict=True):
        out[code] = (digit, sh, altgr.get(code, ""))
    out[16] = ("q", "Q", "@")
    out.update({12: ("ß", "?", "\\"), 53: ("-", "_", ""), 52: (".", ":", ""),
                51: (",", ";", ""), 27: ("+", "*", "~"), 43: ("#", "'", ""),
                57: (" ", " ", "")})
    return out


LAYOUTS = {"us": _us(), "fr": _fr(), "de": _de()}


class KeyDecoder:
    """Feed (key code, value) pairs from evdev (1 press, 0 release, 2 repeat); get lines."""

    def __init__(self, layout: str = "us", max_len: int = 200) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"keyboard layout {layout!r}: use one of {', '.join(LAYOUTS)}")
        self.keys = LAYOUTS[layout]
        self.max_len = max_len
        self._shift = 0
        self._altgr = False
        self._buf: list[str] = []
        self.overflowed = False

    def feed(self, code: int, value: int) -> str | None:
        if code in SHIFTS:
            self._shift = max(0, self._shift + (1 if value == 1 else -1 if value == 0 else 0))
            return None
        if code == ALTGR:
            self._altgr = value != 0
            return None
        if value != 1:  # releases and auto-repeats type nothing
            return None
        if code in (KEY_ENTER, KEY_KPENTER, KEY_TAB):
            line, self._buf = "".join(self._buf), []
            overflowed, self.overflowed = self.overflowed, False
            return None if overflowed or not line else line
        if code in _KEYPAD:
            char = _KEYPAD[code]
        elif code in self.keys:
            plain, shifted, altgr = self.keys[code]
            char = altgr if self._altgr else shifted if self._shift else plain
        else:
            return None  # a key no barcode types (F-keys, arrows)
        if not char:
            return None
        if len(self._buf) >= self.max_len:
            self.overflowed = True
            self._buf.clear()
        elif not self.overflowed:
            self._buf.append(char)
        return None
