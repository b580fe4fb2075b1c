"""hub.words: money, weights and dates the way each store writes them, what a person types in
an amount field read back exactly, and refusals said in the store's language."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.core.errors import Invalid, Refused
from hub.money import Money, MoneyError
from hub.words import Grams, Listing, Term, Words

LOCALES = ["fr-FR", "de-DE", "en-GB", "en-US", "de-CH", "hi-IN", "it-IT", "es-ES", "ja-JP"]
CURRENCIES = ["EUR", "JPY", "KWD", "USD", "CHF", "GBP"]


def test_the_three_boutiques_write_prices_their_way():
    assert Words("fr-FR").money(319000, "EUR") == "3\u202f190,00\u00a0€"
    assert Words("de-DE").money(319000, "EUR") == "3.190,00\u00a0€"
    assert Words("en-GB").money(319000, "GBP") == "£3,190.00"
    assert Words("ja-JP").money(319000, "JPY") == "￥319,000"


@settings(max_examples=300)
@given(st.integers(-10**13, 10**13), st.sampled_from(LOCALES), st.sampled_from(CURRENCIES))
def test_what_is_shown_reads_back_exactly(amount, tag, currency):
    words = Words(tag)
    assert words.parse_amount(words.money(amount, currency), currency) == amount


@given(st.integers(0, 10**12), st.sampled_from(LOCALES))
def test_the_plain_form_is_understood_everywhere(cents, tag):
    text = f"{cents // 100}.{cents % 100:02d}"
    assert Words(tag).parse_amount(text, "EUR") == cents


@pytest.mark.parametrize("tag, typed, cents", [
    ("fr-FR", "3 190,00", 319000), ("fr-FR", "3190,5", 319050), ("fr-FR", "3 190 €", 319000),
    ("de-DE", "3.190,00", 319000), ("de-DE", "1.234", 123400), ("de-DE", "1234.50", 123450),
    ("de-DE", "1.50", 150), ("en-GB", "£3,190.00", 319000), ("en-GB", "3190", 319000),
])
def test_a_person_types_it_as_they_write_it(tag, typed, cents):
    assert Words(tag).parse_amount(typed, "GBP" if "£" in typed else "EUR") == cents


@given(st.text(max_size=30), st.sampled_from(LOCALES))
def test_garbage_is_refused_with_a_sentence_never_a_crash(text, tag):
    try:
        Words(tag).parse_amount(text, "EUR")
    except MoneyError as exc:
        assert exc.message  # a template a screen can translate


@pytest.mark.parametrize("typed, off", [("10 %", 31900), ("10%", 31900), ("12,5 %", 39875),
                                        ("250", 25000), ("0 %", 0)])
def test_a_discount_is_a_percentage_or_an_amount(typed, off):
    assert Words("fr-FR").parse_discount(typed, 319000, "EUR") == off


def test_one_rounding_rule_for_weights():
    en = Words("en-GB")
    assert en.grams(30705) == "30.71\u00a0g"  # the piece page said 30.71, the receipt 30.70
    assert en.grams(30704) == "30.70\u00a0g"
    assert Words("fr-FR").grams(30705) == "30,71\u00a0g"


def test_dates_in_the_store_zone_and_language():
    paris = Words("fr-FR", "Europe/Paris")
    assert paris.when("2026-12-01T13:05:00.000000Z") == "1 déc. 2026, 14:05"
    assert Words("de-DE", "Europe/Berlin").when("2026-12-01T13:05:00Z") == "01.12.2026, 14:05"
    assert paris.day("--06-14") == "14 juin"


def test_refusals_speak_french_with_the_store_formats():
    fr = Words("fr-FR")
    exc = Refused("underpaid", "the tenders add up to {paid} but the sale is {total}:"
                  " {due} still to pay", paid=Money(100000, "EUR"), total=Money(319000, "EUR"),
                  due=Money(219000, "EUR"))
    assert "1\u202f000,00\u00a0€" in fr.refusal(exc) and "100000" not in fr.refusal(exc)
    assert str(exc) == ("the tenders add up to €1,000.00 but the sale is €3,190.00:"
                        " €2,190.00 still to pay")
    assert fr.refusal(exc) != str(exc)  # translated, not just reformatted
    card = Invalid("a card tender needs the card's last 4 digits", "tenders[0].last4")
    assert "last4" not in fr.refusal(card) and "tenders[0]" not in fr.refusal(card)
    assert fr.refusal(Invalid("“{value}” is not one of: {choices}", "status", value="x",
                              choices=Listing((Term("status", "in_stock"),
                                               Term("status", "sold")), "or"))) \
        .endswith("En stock ou Vendue")


def test_every_vocabulary_word_and_a_value_in_grams():
    fr = Words("fr-FR")
    assert fr.term("status", "memo_out") == "En confié"
    assert fr.term("status", "made_up") == "made up"  # never a raw code with underscores
    assert fr.render("{w} of gold", {"w": Grams(18400)}) == "18,40\u00a0g of gold"


def test_the_browser_gets_the_same_symbols():
    bundle = Words("fr-FR").js_bundle(("EUR",))
    assert bundle["number"]["decimal"] == "," and bundle["number"]["group"] == "\u202f"
    assert bundle["currencies"]["EUR"]["pos_suffix"] == "\u00a0€"
