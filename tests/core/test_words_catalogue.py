"""Every sentence a person reads is a literal message id (so it can be translated), and the
French catalogue translates every one of them with the same placeholders."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

HUB = Path(__file__).resolve().parents[2] / "hub"
# Calls whose argument at this position is a message template (scripts/words' keywords).
MESSAGE_ARG = {"Refused": 1, "Invalid": 0, "NotFound": 0, "ApiError": 2, "ApprovalNeeded": 1,
               "MoneyError": 0, "DeviceBusy": 0, "problem": 1, "render": 0, "N_": 0, "_": 0}
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "Refused": (2,),
            "Invalid": (1,), "NotFound": (1,), "ApiError": (3,), "ApprovalNeeded": (2,),
            "MoneyError": (1,), "DeviceBusy": (1,), "problem": (2,), "render": (1,)}
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def test_messages_are_literals_not_built_strings():
    bad = []
    for path in HUB.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            pos = MESSAGE_ARG.get(name or "")
            if pos is None or len(node.args) <= pos:
                continue
            arg = node.args[pos]
            if isinstance(arg, ast.JoinedStr | ast.BinOp) or (
                    isinstance(arg, ast.Call) and _name(arg.func) == "format"):
                bad.append(f"{path.relative_to(HUB.parent)}:{node.lineno} {name}(...)")
    assert not bad, "messages built at run time cannot be translated:\n" + "\n".join(bad)


def _extracted() -> set[str]:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2"),
                  ("**/static/**.js", "javascript")]
    options = {"**/templates/**.html": {"trimmed": "true"}}
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(HUB), method_map, options,
                                                keywords=KEYWORDS):
        m = message[0] if isinstance(message, tuple) else message
        if m:
            found.add(m)
    return found


def test_the_french_catalogue_translates_every_message():
    with (HUB / "words/locales/fr/LC_MESSAGES/loupe.po").open("rb") as f:
        # A plural entry is keyed by its singular; its translation is every plural form.
        catalogue = {(m.id[0] if isinstance(m.id, tuple) else m.id): m.string
                     for m in read_po(f) if m.id}
    def translated(m: str) -> bool:
        s = catalogue.get(m)
        return bool(s) and (not isinstance(s, tuple) or all(s))  # every plural form too

    missing = sorted(m for m in _extracted() if not translated(m))
    assert not missing, f"{len(missing)} messages lack a French translation (scripts/words):" \
                        f" {missing[:10]}"
    wrong = [m for m, s in catalogue.items() if s and any(
        sorted(PLACEHOLDER.findall(m)) != sorted(PLACEHOLDER.findall(form))
        for form in (s if isinstance(s, tuple) else (s,)))]
    assert not wrong, f"placeholders differ: {wrong[:10]}"
