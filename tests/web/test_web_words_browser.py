"""The browser writes and reads amounts exactly as the server does (hub.words), in several
locales: the same integers in, the same text out, the same integers back from what a person
types. Real Chromium runs loupe.js with each locale's bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, chromium_args, needs_chromium
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.words import Words

pytestmark = needs_chromium
LOCALES = ("fr-FR", "de-DE", "en-GB", "de-CH", "hi-IN", "ja-JP")
CURRENCIES = ("EUR", "JPY", "KWD", "CHF", "GBP", "USD")
TYPED = st.text(alphabet="0123456789.,'  \u00a0\u202f-€$£¥", max_size=14)
SCRIPT = (Path(__file__).resolve().parents[2] / "hub/web/static/loupe.js").read_text("utf-8")


@pytest.fixture(scope="module")
def js_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
        page = browser.new_page()
        page.set_content("<html><body></body></html>")
        yield page
        browser.close()


def _in_browser(page, tag: str, calls: list[list]) -> list:
    bundle = Words(tag).js_bundle(CURRENCIES)
    return page.evaluate("""([bundle, src, calls]) => {
      document.body.innerHTML = '';
      const data = document.createElement('script');
      data.type = 'application/json'; data.id = 'loupe-words';
      data.textContent = JSON.stringify(bundle);
      document.body.append(data);
      (new Function(src))();  // loupe.js reads this locale's bundle and sets window.loupe
      return calls.map(([fn, a, cur]) => window.loupe[fn](a, cur));
    }""", [bundle, SCRIPT, calls])


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(tag=st.sampled_from(LOCALES),
       amounts=st.lists(st.tuples(st.integers(-10**13, 10**13), st.sampled_from(CURRENCIES)),
                        min_size=1, max_size=20),
       typed=st.lists(TYPED, min_size=1, max_size=20))
def test_the_browser_formats_and_parses_exactly_like_the_server(js_page, tag, amounts, typed):
    words = Words(tag)
    shown = _in_browser(js_page, tag, [["fmt", a, c] for a, c in amounts])
    assert shown == [words.money(a, c) for a, c in amounts]
    read = _in_browser(js_page, tag, [["parseAmount", t, "EUR"] for t in typed])
    expected = []
    for t in typed:
        try:
            expected.append(words.parse_amount(t, "EUR"))
        except ValueError:
            expected.append(None)
    assert read == expected, json.dumps(list(zip(typed, read, expected, strict=True)),
                                        ensure_ascii=False)
    # And what the browser shows, it reads back.
    back = _in_browser(js_page, tag, [["parseAmount", s, c] for s, (_, c) in
                                      zip(shown, amounts, strict=True)])
    assert back == [a for a, _ in amounts]
